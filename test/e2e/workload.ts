/**
 * The mixed workload of the fault matrix: lookups, listings, mints, installation requests and revocations, each
 * checked against the simulator's state, and the verdict on each outcome (correct, a typed error the retry
 * policy allows, or lost).
 */
import type { Integration } from "@effect-github/app"
import { GithubError } from "@effect-github/app"
import type { GithubSimulator } from "@effect-github/testing"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type { Capture, Client, RecordedSpan } from "./harness.js"
import { prng } from "./harness.js"

/** The simulated world every fault run starts from. */
export const world: GithubSimulator.Options = {
  installations: [
    { account: "octo-org", repositories: ["hello-world", "docs", "api"] },
    { account: "octocat", type: "User", repositories: ["dotfiles", "blog"] },
    { account: "octo-enterprise", type: "Enterprise", repositories: 1 },
    // a long listing: four pages at the default 30 per page
    { account: "big-org", repositories: 95 },
    { account: "sleepy-org", suspended: true }
  ],
  installationCount: 40,
  repositoriesPerInstallation: 3
}

export type Kind = "lookup" | "listing" | "mint" | "installation" | "revoke"

export interface Op {
  readonly index: number
  readonly kind: Kind
  readonly label: string
  readonly installationId: number | undefined
  /** Runs the operation; succeeds with undefined when the result is right, or with what is wrong. */
  readonly run: (client: Client) => Effect.Effect<string | undefined, Integration.RequestError>
}

const MINT_ROUTE = "/app/installations/{installation_id}/access_tokens"

const same = <A>(a: ReadonlyArray<A>, b: ReadonlyArray<A>) => a.length === b.length && a.every((x, i) => x === b[i])

const expectFailure = (
  effect: Effect.Effect<unknown, Integration.RequestError>,
  tag: string
): Effect.Effect<string | undefined, Integration.RequestError> =>
  Effect.matchEffect(effect, {
    onFailure: (error) => error._tag === tag ? Effect.succeed(undefined) : Effect.fail(error),
    onSuccess: () => Effect.succeed(`expected ${tag}, got a result`)
  })

/** `count` operations drawn with a seeded PRNG: about 40 % lookups, 15 % listings, 20 % mints, 15 % requests. */
export const workload = (sim: GithubSimulator.Simulator, count: number, seed: number): Array<Op> => {
  const random = prng(seed)
  const pick = <A>(list: ReadonlyArray<A>): A => list[Math.floor(random() * list.length)]!
  const installations = sim.installations
  const active = installations.filter((i) => i.suspendedAt === undefined)
  const byType = (type: string) => installations.filter((i) => i.account.type === type)
  const withRepositories = active.filter((i) => i.repositories.length > 0)
  const ops: Array<Op> = []

  const make = (kind: Kind, label: string, installationId: number | undefined, run: Op["run"]) =>
    ops.push({ index: ops.length, kind, label, installationId, run })

  const installationCheck = (expected: number) => (found: { readonly id: number }) =>
    found.id === expected ? undefined : `expected installation ${expected}, got ${found.id}`

  const tokenCheck = (
    installationId: number,
    repositories: ReadonlyArray<string> | undefined
  ) =>
  (authorization: { readonly token: Redacted.Redacted<string>; readonly expires_at: Date }) =>
    Effect.map(sim.tokens, (issued) => {
      const record = issued.find((t) => Redacted.value(t.token) === Redacted.value(authorization.token))
      if (record === undefined) return "a token the simulator never issued"
      if (record.installationId !== installationId) return `a token of installation ${record.installationId}`
      if (record.expiresAt.getTime() !== authorization.expires_at.getTime()) return "a wrong expires_at"
      const installation = installations[installationId - 1]!
      const ids = repositories?.map((name) => installation.repositories.find((r) => r.name === name)!.id)
      if (ids !== undefined && !same([...record.repositoryIds ?? []].sort(), ids.sort())) {
        return "a token narrowed to other repositories"
      }
      return undefined
    })

  for (let i = 0; i < count; i++) {
    const roll = random()
    if (roll < 0.4) {
      const which = Math.floor(random() * 8)
      if (which === 0) {
        make(
          "lookup",
          "getApp",
          undefined,
          ({ github }) =>
            Effect.map(
              github.getApp(),
              (app) => app.id === sim.app.id && app.slug === sim.app.slug ? undefined : "another app"
            )
        )
      } else if (which === 1) {
        const target = pick(byType("Organization"))
        make(
          "lookup",
          "getOrgInstallation",
          target.id,
          ({ github }) => Effect.map(github.getOrgInstallation(target.account.login), installationCheck(target.id))
        )
      } else if (which === 2) {
        const target = pick(withRepositories)
        const repository = pick(target.repositories)
        make("lookup", "getRepoInstallation", target.id, ({ github }) =>
          Effect.map(
            github.getRepoInstallation(target.account.login, repository.name),
            installationCheck(target.id)
          ))
      } else if (which === 3) {
        const target = pick(byType("User"))
        make(
          "lookup",
          "getUserInstallation",
          target.id,
          ({ github }) => Effect.map(github.getUserInstallation(target.account.login), installationCheck(target.id))
        )
      } else if (which === 4) {
        const target = pick(byType("Enterprise"))
        make(
          "lookup",
          "getEnterpriseInstallation",
          target.id,
          ({ github }) =>
            Effect.map(github.getEnterpriseInstallation(target.account.login), installationCheck(target.id))
        )
      } else if (which === 5) {
        const target = pick(installations)
        make(
          "lookup",
          "getAppInstallation",
          target.id,
          ({ github }) =>
            Effect.flatMap(
              github.getAppInstallation(target.id),
              (ref) => Effect.map(ref.get, installationCheck(target.id))
            )
        )
      } else if (which === 6) {
        const target = pick(installations)
        make(
          "lookup",
          "lazy getAppInstallation",
          target.id,
          ({ github }) =>
            Effect.flatMap(
              github.withLazy(true).getAppInstallation(target.id),
              (ref) => Effect.map(ref.get, installationCheck(target.id))
            )
        )
      } else {
        make(
          "lookup",
          "getOrgInstallation (absent)",
          undefined,
          ({ github }) => expectFailure(github.getOrgInstallation(`no-such-org-${i}`), "GithubNotFound")
        )
      }
    } else if (roll < 0.55) {
      if (random() < 0.4) {
        make(
          "listing",
          "getInstallations",
          undefined,
          ({ github }) =>
            Effect.map(Stream.runCollect(github.getInstallations({ perPage: 25 })), (all) => {
              const ids = Chunk.toReadonlyArray(all).map((installation) => installation.id)
              return same(ids, installations.map((installation) => installation.id))
                ? undefined
                : `listed ${ids.length} installations, expected ${installations.length}`
            })
        )
      } else {
        // the long listing half of the time
        const target = random() < 0.5 ? installations[3]! : pick(withRepositories)
        make(
          "listing",
          "repositories",
          target.id,
          ({ github }) =>
            Effect.flatMap(
              github.installation(target.id),
              (ref) =>
                Effect.map(Stream.runCollect(ref.repositories()), (all) => {
                  const names = Chunk.toReadonlyArray(all).map((repository) => repository.name)
                  return same(names, target.repositories.map((repository) => repository.name))
                    ? undefined
                    : `listed ${names.length} repositories, expected ${target.repositories.length}`
                })
            )
        )
      }
    } else if (roll < 0.75) {
      if (random() < 0.08) {
        const target = installations[4]!
        make(
          "mint",
          "getAccessToken (suspended)",
          target.id,
          ({ github }) => expectFailure(github.getAccessToken(target.id), "GithubForbidden")
        )
      } else {
        const target = pick(withRepositories)
        const shape = Math.floor(random() * 3)
        const repositories = shape === 2 ? [target.repositories[0]!.name] : undefined
        const scope = shape === 0
          ? undefined
          : shape === 1
          ? { permissions: { contents: "read" as const } }
          : { repositories }
        make(
          "mint",
          "getAccessToken",
          target.id,
          ({ github }) => Effect.flatMap(github.getAccessToken(target.id, scope), tokenCheck(target.id, repositories))
        )
      }
    } else if (roll < 0.9) {
      const target = pick(withRepositories)
      make("installation", "GET /installation/repositories", target.id, ({ tokens }) =>
        Effect.map(
          tokens.requester(target.id).requestJson({
            method: "GET",
            path: "/installation/repositories",
            query: { per_page: 100 }
          }),
          (reply) => {
            const body = reply.body as { total_count?: number }
            return reply.status === 200 && body.total_count === target.repositories.length
              ? undefined
              : `status ${reply.status}, total_count ${body.total_count}`
          }
        ))
    } else {
      const target = pick(withRepositories)
      make(
        "revoke",
        "mint + revoke",
        target.id,
        ({ tokens }) =>
          Effect.flatMap(tokens.mint(target.id), (authorization) =>
            Effect.zipRight(
              tokens.revoke(authorization.token),
              Effect.map(sim.tokens, (issued) => {
                const record = issued.find((t) => Redacted.value(t.token) === Redacted.value(authorization.token))
                return record?.revoked === true ? undefined : "the token is still active"
              })
            ))
      )
    }
  }
  return ops
}

// --- verdicts ----------------------------------------------------------------------------------------------------

export type Verdict =
  | { readonly _tag: "Survived" }
  | { readonly _tag: "Typed"; readonly error: GithubError.GithubError }
  | { readonly _tag: "Lost"; readonly why: string }

export interface Outcome {
  readonly op: Op
  readonly verdict: Verdict
}

/** What a fault may legitimately end in, given whether the retry policy ran out on the failing request. */
export type Allowed = (error: GithubError.GithubError, context: { readonly exhausted: boolean }) => boolean

/** Runs one operation in its own span and keeps its exit. */
export const attempt = (
  op: Op,
  client: Client
): Effect.Effect<[Tracer.Span, Exit.Exit<string | undefined, Integration.RequestError>]> =>
  Effect.withSpan(
    Effect.zip(Effect.orDie(Effect.currentSpan), Effect.exit(op.run(client))),
    "e2e.op",
    { attributes: { "e2e.op": op.index, "e2e.kind": op.kind } }
  )

const mintSpanOf = (span: RecordedSpan): Option.Option<Tracer.AnySpan> => {
  let current: Option.Option<Tracer.AnySpan> = span.parent
  while (Option.isSome(current) && current.value._tag === "Span") {
    if (current.value.name === "InstallationTokens.mint") return current
    current = current.value.parent
  }
  return Option.none()
}

/**
 * Whether the failing request made as many attempts as the policy allows (5): found among the request spans of
 * the operation, or of the mints of its installation (a mint runs outside the caller's span: it is shared).
 */
export const exhausted = (
  capture: Capture,
  opSpan: Tracer.Span,
  op: Op,
  error: GithubError.GithubError,
  attempts = 5
): boolean => {
  if (!("route" in error) || error.route === undefined) return false
  const name = `GitHub ${error.method} ${error.route}`
  return capture.spans.some((span) => {
    if (span.name !== name || Number(span.attributes.get("github.attempt")) < attempts) return false
    if (span.descendsFrom(opSpan)) return true
    const mint = mintSpanOf(span)
    return error.route === MINT_ROUTE && Option.isSome(mint) && mint.value._tag === "Span" &&
      mint.value.attributes.get("github.installation_id") === op.installationId
  })
}

export const verdict = (
  capture: Capture,
  op: Op,
  opSpan: Tracer.Span,
  exit: Exit.Exit<string | undefined, Integration.RequestError>,
  allowed: Allowed
): Verdict => {
  if (Exit.isSuccess(exit)) {
    return exit.value === undefined ? { _tag: "Survived" } : { _tag: "Lost", why: `wrong result: ${exit.value}` }
  }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) {
    return { _tag: "Lost", why: Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect" }
  }
  const error = failure.value
  if (!GithubError.isGithubError(error)) return { _tag: "Lost", why: "an untyped error" }
  return allowed(error, { exhausted: exhausted(capture, opSpan, op, error) })
    ? { _tag: "Typed", error }
    : { _tag: "Lost", why: `${error._tag} not allowed here: ${error.message}` }
}

/** Runs the workload with some concurrency and judges every outcome. */
export const runWorkload = (
  ops: ReadonlyArray<Op>,
  client: Client,
  capture: Capture,
  allowed: Allowed,
  concurrency: number
): Effect.Effect<Array<Outcome>> =>
  Effect.forEach(
    ops,
    (op) =>
      Effect.map(attempt(op, client), ([span, exit]) => {
        if (Exit.isFailure(exit)) {
          const failure = Cause.failureOption(exit.cause)
          if (Option.isSome(failure)) capture.value(failure.value)
          else capture.texts.push(Cause.pretty(exit.cause))
        }
        return { op, verdict: verdict(capture, op, span, exit, allowed) }
      }),
    { concurrency }
  )

/** Summary counts of a run. */
export const tally = (outcomes: ReadonlyArray<Outcome>) => {
  const count = (tag: Verdict["_tag"]) => outcomes.filter((o) => o.verdict._tag === tag).length
  return { survived: count("Survived"), typed: count("Typed"), lost: count("Lost") }
}

/** Typed failures by tag, and how many were of a non-idempotent write: e.g. "ServerError ×3 (2 DELETE)". */
export const typedSummary = (outcomes: ReadonlyArray<Outcome>): string => {
  const tags = new Map<string, { n: number; writes: number }>()
  for (const { verdict } of outcomes) {
    if (verdict._tag !== "Typed") continue
    const entry = tags.get(verdict.error._tag) ?? { n: 0, writes: 0 }
    entry.n++
    if ("method" in verdict.error && verdict.error.method === "DELETE") entry.writes++
    tags.set(verdict.error._tag, entry)
  }
  return [...tags].map(([tag, { n, writes }]) =>
    `${tag.replace("Github", "")} ×${n}${writes > 0 ? ` (${writes} DELETE)` : ""}`
  ).join(", ") || "-"
}

export const millis = (duration: Duration.DurationInput): number => Duration.toMillis(Duration.decode(duration))
