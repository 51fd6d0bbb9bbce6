/**
 * Typed errors for every way a GitHub App operation can fail: data a caller can branch on, and a message that
 * says what to do next. None of them ever holds a private key, a JWT or a token.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-github/app/GithubError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * What is known of the request that failed. Every field is optional because an error can arise before a
 * request exists (bad input) or before a response arrives (transport).
 *
 * @since 0.1.0
 * @category models
 */
export const RequestInfo = {
  /** HTTP method, e.g. `POST`. */
  method: Schema.optional(Schema.String),
  /** Route template, e.g. `/app/installations/{installation_id}/access_tokens` (never a filled-in URL). */
  route: Schema.optional(Schema.String),
  /** HTTP status of the response. */
  status: Schema.optional(Schema.Number),
  /** GitHub's `x-github-request-id`, to quote to GitHub support. */
  requestId: Schema.optional(Schema.String),
  /** GitHub's own `message` from the error body. */
  githubMessage: Schema.optional(Schema.String),
  /** GitHub's `documentation_url` from the error body. */
  documentationUrl: Schema.optional(Schema.String)
}

/**
 * One entry of GitHub's `errors` array on a 422 (`resource`, `field`, `code`, `message`); other fields are kept.
 *
 * @since 0.1.0
 * @category models
 */
export const ValidationErrorItem = Schema.Struct(
  {
    resource: Schema.optional(Schema.String),
    field: Schema.optional(Schema.String),
    code: Schema.optional(Schema.String),
    message: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type ValidationErrorItem = typeof ValidationErrorItem.Type

const where = (self: { readonly method?: string | undefined; readonly route?: string | undefined }): string =>
  self.method !== undefined && self.route !== undefined
    ? ` (${self.method} ${self.route})`
    : self.route !== undefined
    ? ` (${self.route})`
    : ""

const quoted = (githubMessage: string | undefined): string =>
  githubMessage === undefined || githubMessage === "" ? "" : `: GitHub says "${githubMessage}"`

const requestIdSuffix = (requestId: string | undefined): string =>
  requestId === undefined ? "" : ` [request id ${requestId}]`

/**
 * The request never got an HTTP response: DNS, connection, TLS, timeout, or a body that could not be read.
 *
 * `notProcessed` is true only when GitHub provably did not receive the request (the connection was refused
 * before anything was sent); writes are retried only then.
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubTransportError extends Schema.TaggedError<GithubTransportError>(
  "@effect-github/app/GithubTransportError"
)("GithubTransportError", {
  ...RequestInfo,
  reason: Schema.Literal("Timeout", "Connection", "Body", "Other"),
  notProcessed: Schema.Boolean,
  description: Schema.String
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    const what = this.reason === "Timeout"
      ? "timed out waiting for GitHub"
      : this.reason === "Connection"
      ? this.notProcessed ? "could not connect to GitHub" : "lost its connection to GitHub"
      : this.reason === "Body"
      ? "could not read GitHub's response"
      : "to GitHub failed"
    return `The request ${what}${where(this)}: ${this.description}. ` +
      "Check the base URL and the network, or raise the timeout."
  }
}

/**
 * Why GitHub answered 401.
 *
 * - `ClockSkew`: GitHub rejected the JWT's `iat`/`exp` claims: this machine's clock is off.
 * - `BadCredentials`: the JWT or token is wrong, expired or revoked.
 * - `Other`: anything else.
 *
 * @since 0.1.0
 * @category models
 */
export const UnauthorizedReason = Schema.Literal("ClockSkew", "BadCredentials", "Other")

/**
 * The 401 messages GitHub gives when a JWT's time claims are rejected.
 *
 * @since 0.1.0
 * @category constants
 */
export const isJwtClaimRejection = (githubMessage: string | undefined): boolean =>
  githubMessage !== undefined &&
  (githubMessage.includes("'Issued at' claim ('iat')") ||
    githubMessage.includes("'Expiration time' claim ('exp')"))

/**
 * 401: GitHub did not accept the app JWT or installation token.
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubUnauthorized extends Schema.TaggedError<GithubUnauthorized>(
  "@effect-github/app/GithubUnauthorized"
)("GithubUnauthorized", {
  ...RequestInfo,
  reason: UnauthorizedReason,
  /** What the client concluded beyond GitHub's answer, e.g. replication lag outlasting its window. */
  hint: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    const fix = this.reason === "ClockSkew"
      ? "The JWT's time claims were rejected: this machine's clock differs from GitHub's (clock skew). " +
        "Sync the clock (NTP), or let the client learn GitHub's time from its `date` header."
      : this.reason === "BadCredentials"
      ? "GitHub did not accept the credentials: check the App ID or Client ID and that the private key " +
        "belongs to this app and was not revoked; an installation token may have expired or been revoked."
      : "GitHub refused the credentials."
    return `Unauthorized (401)${where(this)}${quoted(this.githubMessage)}. ${this.hint ?? fix}${
      requestIdSuffix(this.requestId)
    }`
  }
}

/**
 * 403 other than a rate limit: e.g. a suspended installation, or a permission the token lacks.
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubForbidden extends Schema.TaggedError<GithubForbidden>("@effect-github/app/GithubForbidden")(
  "GithubForbidden",
  {
    ...RequestInfo,
    /** What the client concluded beyond GitHub's answer, e.g. replication lag outlasting its window. */
    hint: Schema.optional(Schema.String)
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    const suspended = this.githubMessage !== undefined && /suspend/i.test(this.githubMessage)
    const fix = suspended
      ? "The installation is suspended: it must be unsuspended in its account's settings before tokens can be minted."
      : "Check the app's permissions, the installation's repository selection and the token's scope."
    return `Forbidden (403)${where(this)}${quoted(this.githubMessage)}. ${this.hint ?? fix}${
      requestIdSuffix(this.requestId)
    }`
  }
}

/**
 * 404: the installation, account or repository does not exist or the app cannot see it.
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubNotFound extends Schema.TaggedError<GithubNotFound>("@effect-github/app/GithubNotFound")(
  "GithubNotFound",
  RequestInfo
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    return `Not found (404)${where(this)}${quoted(this.githubMessage)}. ` +
      "The app may not be installed there, or the name or id is wrong." + requestIdSuffix(this.requestId)
  }
}

/**
 * A primary (`x-ratelimit-remaining: 0`) or secondary (abuse) rate limit that could not be waited out within
 * `maxRateLimitWait`, or that the retry policy gave up on.
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubRateLimited extends Schema.TaggedError<GithubRateLimited>(
  "@effect-github/app/GithubRateLimited"
)("GithubRateLimited", {
  ...RequestInfo,
  kind: Schema.Literal("primary", "secondary"),
  /** When the primary limit resets (`x-ratelimit-reset`). */
  resetAt: Schema.optional(Schema.DateFromSelf),
  /** What GitHub asked to wait (`retry-after`), or the wait the policy computed. */
  retryAfter: Schema.optional(Schema.DurationFromSelf),
  /** `x-ratelimit-resource`, e.g. `core`. */
  resource: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    const when = this.resetAt !== undefined
      ? ` It resets at ${this.resetAt.toISOString()}.`
      : this.retryAfter !== undefined
      ? ` GitHub asks to wait ${formatDuration(this.retryAfter)}.`
      : ""
    const kind = this.kind === "primary" ? "Primary rate limit exhausted" : "Secondary rate limit hit"
    return `${kind}${where(this)}${quoted(this.githubMessage)}.${when} ` +
      "Slow down (secondsBetweenRequests), or raise maxRateLimitWait to wait it out." +
      requestIdSuffix(this.requestId)
  }
}

const formatDuration = (duration: Duration.Duration): string => {
  const millis = Number(duration.value._tag === "Millis" ? duration.value.millis : 0)
  return duration.value._tag === "Infinity" ? "forever" : `${Math.ceil(millis / 1000)} s`
}

/**
 * 422: GitHub rejected the request's content, with its `errors` list (e.g. a repository not in the
 * installation, or a permission the app was not granted).
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubValidationFailed extends Schema.TaggedError<GithubValidationFailed>(
  "@effect-github/app/GithubValidationFailed"
)("GithubValidationFailed", {
  ...RequestInfo,
  errors: Schema.Array(ValidationErrorItem)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    const details = this.errors
      .map((item) => item.message ?? [item.resource, item.field, item.code].filter(Predicate.isString).join(" "))
      .filter((text) => text !== "")
    return `Validation failed (422)${where(this)}${quoted(this.githubMessage)}${
      details.length > 0 ? ` (${details.join("; ")})` : ""
    }. Check the permissions and repositories asked for against the installation's.` +
      requestIdSuffix(this.requestId)
  }
}

/**
 * 5xx from GitHub, after the retry policy gave up (or at once for a non-idempotent write).
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubServerError extends Schema.TaggedError<GithubServerError>(
  "@effect-github/app/GithubServerError"
)("GithubServerError", {
  ...RequestInfo,
  /** A 503's `retry-after`: no retry goes sooner. */
  retryAfter: Schema.optional(Schema.DurationFromSelf)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    return `GitHub server error (${this.status ?? "5xx"})${where(this)}${quoted(this.githubMessage)}. ` +
      "This is usually transient: try again later, or check https://www.githubstatus.com." +
      requestIdSuffix(this.requestId)
  }
}

/**
 * Any other status, or a body that is not GitHub's JSON (an HTML page usually means a GitHub Enterprise
 * Server base URL without `/api/v3`).
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubUnexpectedStatus extends Schema.TaggedError<GithubUnexpectedStatus>(
  "@effect-github/app/GithubUnexpectedStatus"
)("GithubUnexpectedStatus", {
  ...RequestInfo,
  contentType: Schema.optional(Schema.String),
  hint: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    return `Unexpected response (${this.status ?? "no status"}${
      this.contentType === undefined ? "" : `, ${this.contentType}`
    })${where(this)}${quoted(this.githubMessage)}.${this.hint === undefined ? "" : ` ${this.hint}`}` +
      requestIdSuffix(this.requestId)
  }
}

/**
 * Where a response body failed to match the expected model, and what was expected there (never the body).
 *
 * @since 0.1.0
 * @category models
 */
export const DecodeIssue = Schema.Struct({
  path: Schema.String,
  expected: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type DecodeIssue = typeof DecodeIssue.Type

/**
 * A response did not match the model it was decoded with (or was not JSON at all).
 *
 * @since 0.1.0
 * @category errors
 */
export class GithubDecodeError extends Schema.TaggedError<GithubDecodeError>(
  "@effect-github/app/GithubDecodeError"
)("GithubDecodeError", {
  ...RequestInfo,
  issues: Schema.Array(DecodeIssue)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    const shown = this.issues.slice(0, 5).map((issue) => `${issue.path}: expected ${issue.expected}`)
    const more = this.issues.length > 5 ? `; and ${this.issues.length - 5} more` : ""
    return `GitHub's response did not match the expected shape${where(this)}: ${shown.join("; ")}${more}.` +
      requestIdSuffix(this.requestId)
  }

  /**
   * Builds the error from a `ParseError`, keeping the paths and expected types of the mismatches but none of
   * the actual values (which may be tokens).
   *
   * @since 0.1.0
   */
  static fromParseError(
    error: ParseResult.ParseError,
    info: Omit<typeof GithubDecodeError.Encoded, "_tag" | "issues"> = {}
  ): GithubDecodeError {
    return new GithubDecodeError({ ...info, issues: decodeIssues(error.issue) })
  }
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? "$"
    : "$" + path.map((key) => typeof key === "number" ? `[${key}]` : `.${String(key)}`).join("")

const decodeIssues = (root: ParseResult.ParseIssue): Array<DecodeIssue> => {
  const out: Array<DecodeIssue> = []
  const go = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): void => {
    if (out.length >= 20) return
    switch (issue._tag) {
      case "Pointer": {
        const keys = Array.isArray(issue.path) ? issue.path : [issue.path]
        return go(issue.issue, [...path, ...keys])
      }
      case "Composite": {
        const issues = Array.isArray(issue.issues) ? issue.issues : [issue.issues]
        for (const inner of issues) go(inner as ParseResult.ParseIssue, path)
        return
      }
      case "Refinement":
      case "Transformation":
        return go(issue.issue, path)
      case "Missing":
        out.push({ path: formatPath(path), expected: `${String(issue.ast)} (missing)` })
        return
      case "Unexpected":
        out.push({ path: formatPath(path), expected: "no such field" })
        return
      case "Forbidden":
      case "Type":
        out.push({ path: formatPath(path), expected: String(issue.ast) })
        return
    }
  }
  go(root, [])
  return out
}

/**
 * Why a private key was refused.
 *
 * @since 0.1.0
 * @category models
 */
export const PrivateKeyProblem = Schema.Literal(
  "Empty",
  "Truncated",
  "OpenSsh",
  "PublicKey",
  "Certificate",
  "Encrypted",
  "NotRsa",
  "TooShort",
  "Unparseable",
  "Unreadable"
)

/**
 * @since 0.1.0
 * @category models
 */
export type PrivateKeyProblem = typeof PrivateKeyProblem.Type

/**
 * The app's private key could not be used. The message names the problem and its fix; it never shows key text.
 *
 * @since 0.1.0
 * @category errors
 */
export class PrivateKeyError extends Schema.TaggedError<PrivateKeyError>("@effect-github/app/PrivateKeyError")(
  "PrivateKeyError",
  {
    problem: PrivateKeyProblem,
    description: Schema.String
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    return `The GitHub App private key cannot be used: ${this.description}`
  }
}

/**
 * A JWT could not be made: bad options, or the signer failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class JwtError extends Schema.TaggedError<JwtError>("@effect-github/app/JwtError")("JwtError", {
  reason: Schema.Literal("InvalidOptions", "SignerFailed"),
  description: Schema.String
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    return `Could not create the app JWT: ${this.description}`
  }
}

/**
 * Input refused before any request was made: an id that is not a positive integer, a name that could change
 * the route (`/`, `..`, `?`, `#`, `%`), a permission GitHub does not know, a bad option.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>("@effect-github/app/InvalidArgument")(
  "InvalidArgument",
  {
    argument: Schema.String,
    description: Schema.String
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.1.0 */
  override get message(): string {
    return `Invalid ${this.argument}: ${this.description}`
  }
}

/**
 * Every error a request to GitHub can end in.
 *
 * @since 0.1.0
 * @category models
 */
export type GithubRequestError =
  | GithubTransportError
  | GithubUnauthorized
  | GithubForbidden
  | GithubNotFound
  | GithubRateLimited
  | GithubValidationFailed
  | GithubServerError
  | GithubUnexpectedStatus
  | GithubDecodeError

/**
 * Every error of this library.
 *
 * @since 0.1.0
 * @category models
 */
export type GithubError = GithubRequestError | PrivateKeyError | JwtError | InvalidArgument

/**
 * @since 0.1.0
 * @category refinements
 */
export const isGithubError = (u: unknown): u is GithubError => Predicate.hasProperty(u, TypeId)
