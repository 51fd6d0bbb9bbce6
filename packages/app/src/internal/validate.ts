/**
 * Input checks run before any request, so bad input fails with `InvalidArgument` and never reaches GitHub.
 */
import * as Effect from "effect/Effect"
import { InvalidArgument } from "../GithubError.js"

// Objects are described, not printed: String() runs their toString, which may throw (`{ toString: false }` made
// every validator throw synchronously, from a function that returns an Effect) or print what they hold.
const show = (value: unknown): string => {
  const text = typeof value === "string"
    ? JSON.stringify(value)
    : value instanceof Date
    ? Number.isNaN(value.getTime()) ? "an invalid Date" : value.toISOString()
    : Array.isArray(value)
    ? "an array"
    : value !== null && (typeof value === "object" || typeof value === "function")
    ? `a ${typeof value}`
    : String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const fail = (argument: string, description: string) => Effect.fail(new InvalidArgument({ argument, description }))

/** An installation (or repository) id: a positive safe integer. */
export const id = (argument: string, value: unknown): Effect.Effect<number, InvalidArgument> =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0
    ? Effect.succeed(value)
    : fail(argument, `expected a positive integer, got ${show(value)}`)

// Logins: letters, digits, single hyphens inside; managed (EMU) users and legacy accounts add `_`.
const login = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98}[A-Za-z0-9_])?$/
// Repository names: letters, digits, `.`, `-`, `_`; `.` and `..` are not names.
const repository = /^[A-Za-z0-9._-]{1,100}$/
// Enterprise slugs: lower-case letters, digits and hyphens.
const enterprise = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$/

const named = (pattern: RegExp, rule: string) => (argument: string, value: unknown) =>
  typeof value === "string" && pattern.test(value) && value !== "." && value !== ".."
    ? Effect.succeed(value)
    : fail(argument, `${show(value)} is not a valid ${rule}`)

/** An owner, organization or user login. */
export const accountLogin = named(
  login,
  "GitHub login (letters, digits, hyphens and underscores, not starting with a hyphen, at most 100 characters)"
)

/** A repository name (without its owner). */
export const repositoryName = named(
  repository,
  "repository name (letters, digits, '.', '-' and '_', at most 100 characters, not '.' or '..')"
)

/** An enterprise slug. */
export const enterpriseSlug = named(enterprise, "enterprise slug (letters, digits and hyphens)")

const permissionName = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/
const permissionLevels: ReadonlySet<string> = new Set(["read", "write", "admin"])

/** A permission map such as `{ contents: "read", pull_requests: "write" }`. */
export const permissions = (
  argument: string,
  value: unknown
): Effect.Effect<Readonly<Record<string, "read" | "write" | "admin">>, InvalidArgument> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(argument, "expected an object of permission names to levels, e.g. { contents: \"read\" }")
  }
  for (const [name, level] of Object.entries(value)) {
    if (!permissionName.test(name) || name.length > 100) {
      return fail(argument, `${show(name)} is not a permission name (lower_snake_case, e.g. "pull_requests")`)
    }
    if (typeof level !== "string" || !permissionLevels.has(level)) {
      return fail(argument, `the level of ${name} must be "read", "write" or "admin", got ${show(level)}`)
    }
  }
  return Effect.succeed(value as Readonly<Record<string, "read" | "write" | "admin">>)
}

/** GitHub accepts at most 500 repositories in one token request. */
export const maxRepositories = 500

/** Repository names and ids for a narrowed token. */
export const repositorySelection = (
  repositories: unknown,
  repositoryIds: unknown
): Effect.Effect<{ readonly names: ReadonlyArray<string>; readonly ids: ReadonlyArray<number> }, InvalidArgument> =>
  Effect.gen(function*() {
    if (repositories !== undefined && !Array.isArray(repositories)) {
      return yield* fail("repositories", "expected an array of repository names")
    }
    if (repositoryIds !== undefined && !Array.isArray(repositoryIds)) {
      return yield* fail("repositoryIds", "expected an array of repository ids")
    }
    const names: Array<string> = []
    for (const name of (repositories ?? []) as ReadonlyArray<unknown>) {
      // GitHub takes bare names here: the installation's owner is implied.
      names.push(yield* repositoryName("repositories", name))
    }
    const ids: Array<number> = []
    for (const value of (repositoryIds ?? []) as ReadonlyArray<unknown>) {
      ids.push(yield* id("repositoryIds", value))
    }
    const unique = new Set(names.map((name) => name.toLowerCase())).size + new Set(ids).size
    if (unique > maxRepositories) {
      return yield* fail("repositories", `at most ${maxRepositories} repositories per token, got ${unique}`)
    }
    return { names, ids }
  })

/** A page size GitHub accepts: 1..100. */
export const perPage = (value: unknown): Effect.Effect<number, InvalidArgument> =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 100
    ? Effect.succeed(value)
    : fail("perPage", `expected an integer from 1 to 100, got ${show(value)}`)

/** A valid `Date`. */
export const date = (argument: string, value: unknown): Effect.Effect<Date, InvalidArgument> =>
  value instanceof Date && !Number.isNaN(value.getTime())
    ? Effect.succeed(value)
    : fail(argument, `expected a valid Date, got ${show(value)}`)
