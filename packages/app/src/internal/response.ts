/**
 * From GitHub's responses to values or typed errors: status mapping, error bodies, JSON parsing, HTML pages.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import {
  GithubDecodeError,
  GithubForbidden,
  GithubNotFound,
  GithubRateLimited,
  type GithubRequestError,
  GithubServerError,
  GithubUnauthorized,
  GithubUnexpectedStatus,
  GithubValidationFailed,
  isJwtClaimRejection,
  type ValidationErrorItem
} from "../GithubError.js"
import { parseDate, parseRetryAfter, untilReset } from "./rateLimit.js"

/**
 * A response as read off the wire.
 *
 * @internal
 */
export interface Reply {
  readonly method: string
  readonly route: string
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly text: string
}

/** @internal */
export const requestInfo = (reply: Reply) => {
  const requestId = reply.headers["x-github-request-id"]
  return requestId === undefined
    ? { method: reply.method, route: reply.route, status: reply.status }
    : { method: reply.method, route: reply.route, status: reply.status, requestId }
}

const isHtml = (contentType: string | undefined): boolean =>
  contentType !== undefined && /^\s*(text\/html|application\/xhtml)/i.test(contentType)

const isJson = (contentType: string | undefined): boolean =>
  contentType === undefined || contentType === "" || /json/i.test(contentType)

/**
 * Why an HTML page came back, and what to change.
 *
 * @internal
 */
export const htmlHint = (baseUrl: string): string => {
  const url = new URL(baseUrl)
  return url.pathname.endsWith("/api/v3") || url.hostname.startsWith("api.")
    ? "GitHub answered with an HTML page instead of API JSON: check the base URL and any proxy in between."
    : `This is a web page, not GitHub's REST API: for GitHub Enterprise Server append /api/v3 to the base URL ` +
      `(${baseUrl}/api/v3).`
}

interface ErrorBody {
  readonly message?: string
  readonly documentationUrl?: string
  readonly errors?: ReadonlyArray<ValidationErrorItem>
}

const parseErrorBody = (text: string, contentType: string | undefined): ErrorBody => {
  if (text === "" || !isJson(contentType)) return {}
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return {}
  }
  if (typeof json !== "object" || json === null) return {}
  const record = json as Record<string, unknown>
  const out: { message?: string; documentationUrl?: string; errors?: Array<ValidationErrorItem> } = {}
  if (typeof record.message === "string") out.message = record.message
  if (typeof record.documentation_url === "string") out.documentationUrl = record.documentation_url
  if (Array.isArray(record.errors)) {
    // GitHub's `errors` are objects, or sometimes bare strings
    out.errors = record.errors.flatMap((item): Array<ValidationErrorItem> =>
      typeof item === "string"
        ? [{ message: item }]
        : typeof item === "object" && item !== null
        ? [Object.fromEntries(
          Object.entries(item).filter(([key, value]) =>
            !["resource", "field", "code", "message"].includes(key) || typeof value === "string"
          )
        ) as ValidationErrorItem]
        : []
    )
  }
  return out
}

const secondaryMessage = /secondary rate limit|abuse detection/i
const rateLimitMessage = /rate limit|abuse|too many requests/i

/**
 * The typed error for a response that is not a success.
 *
 * @internal
 */
export const statusError = (reply: Reply, baseUrl: string, localNow: number): GithubRequestError => {
  const { headers, status } = reply
  const contentType = headers["content-type"]
  const body = parseErrorBody(reply.text, contentType)
  const info = {
    ...requestInfo(reply),
    ...(body.message === undefined ? {} : { githubMessage: body.message }),
    ...(body.documentationUrl === undefined ? {} : { documentationUrl: body.documentationUrl })
  }
  if (status === 403 || status === 429) {
    const remaining = headers["x-ratelimit-remaining"]
    const retryAfterHeader = headers["retry-after"]
    const secondary = body.message !== undefined && secondaryMessage.test(body.message)
    // the headers come with every answer: a 403 that says something else ("Resource not accessible by
    // integration") is a refusal even when the bucket happens to be empty
    const byHeaders = (remaining === "0" || retryAfterHeader !== undefined) &&
      (body.message === undefined || rateLimitMessage.test(body.message))
    if (status === 429 || secondary || byHeaders) {
      const serverNow = parseDate(headers.date)
      const reset = Number(headers["x-ratelimit-reset"])
      const resetAt = headers["x-ratelimit-reset"] !== undefined && Number.isInteger(reset)
        ? new Date(reset * 1000)
        : undefined
      const kind = remaining === "0" && !secondary ? "primary" : "secondary"
      const retryAfter = parseRetryAfter(retryAfterHeader, serverNow ?? localNow) ??
        (kind === "primary" && resetAt !== undefined ? untilReset(resetAt, serverNow, localNow) : undefined)
      return new GithubRateLimited({
        ...info,
        kind,
        ...(resetAt === undefined ? {} : { resetAt }),
        ...(retryAfter === undefined ? {} : { retryAfter: Duration.millis(retryAfter) }),
        ...(headers["x-ratelimit-resource"] === undefined ? {} : { resource: headers["x-ratelimit-resource"] })
      })
    }
  }
  if (status >= 500) {
    const retryAfter = parseRetryAfter(headers["retry-after"], parseDate(headers.date) ?? localNow)
    return new GithubServerError(retryAfter === undefined ? info : { ...info, retryAfter: Duration.millis(retryAfter) })
  }
  if (isHtml(contentType)) {
    return new GithubUnexpectedStatus({ ...info, contentType: contentType!, hint: htmlHint(baseUrl) })
  }
  switch (status) {
    case 401:
      return new GithubUnauthorized({
        ...info,
        reason: isJwtClaimRejection(body.message)
          ? "ClockSkew"
          // "A JSON web token could not be decoded": GitHub's answer to a JWT signed with another key or app id
          : body.message !== undefined &&
              /bad credentials|could not be decoded|integration not found/i.test(body.message)
          ? "BadCredentials"
          : "Other"
      })
    case 403:
      return new GithubForbidden(info)
    case 404:
      return new GithubNotFound(info)
    case 422:
      return new GithubValidationFailed({ ...info, errors: body.errors ?? [] })
    default:
      return new GithubUnexpectedStatus(contentType === undefined ? info : { ...info, contentType })
  }
}

/**
 * The body of a successful response: JSON (`null` when empty), the text for other media types a caller asked
 * for, and an error for an HTML page or JSON that does not parse.
 *
 * @internal
 */
export const successBody = (
  reply: Reply,
  baseUrl: string
): Either.Either<unknown, GithubUnexpectedStatus | GithubDecodeError> => {
  const contentType = reply.headers["content-type"]
  if (isHtml(contentType)) {
    return Either.left(
      new GithubUnexpectedStatus({ ...requestInfo(reply), contentType: contentType!, hint: htmlHint(baseUrl) })
    )
  }
  if (reply.text === "") return Either.right(null)
  if (!isJson(contentType)) return Either.right(reply.text)
  try {
    return Either.right(JSON.parse(reply.text))
  } catch {
    return Either.left(
      new GithubDecodeError({
        ...requestInfo(reply),
        issues: [{ path: "$", expected: "a JSON body (it does not parse)" }]
      })
    )
  }
}
