/**
 * The simulator's one request handler, shared by the in-process HttpClient and the loopback server: routing,
 * GitHub's authentication rules, rate-limit buckets, faults, recording, and the route handlers.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { compactVerify } from "jose"
import { randomBytes } from "node:crypto"
import type { Fault } from "../Fault.js"
import type { IssuedToken, RecordedRequest, RouteMatcher } from "../GithubSimulator.js"
import type { Installation, Level, Repository, Urls, World } from "./state.js"
import { isoSeconds, renderApp, renderInstallation, renderRepository } from "./state.js"

/** A request as both transports see it. */
export interface CoreRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly body: string
}

/** What the transport must do: write a reply, or drop the connection. */
export type CoreReply =
  | {
    readonly _tag: "Reply"
    readonly status: number
    readonly headers: Record<string, string>
    readonly body: string
  }
  | { readonly _tag: "Reset" }

export interface CoreOptions {
  readonly world: World
  readonly publicKey: CryptoKey
  readonly prefix: string
  readonly skewMs: number
  readonly tokenLifetimeMs: number
  readonly appRateLimit: number
  readonly installationRateLimit: number
  readonly rateLimitWindowMs: number
  readonly record: boolean
  /** Routes served beside GitHub's App routes (the webhook deliveries and hook config, issue comments). */
  readonly extraRoutes?: ReadonlyArray<ExtraRoute> | undefined
}

/** A route defined outside the core, with the core's authentication, rate limits, faults and recording. */
export interface ExtraRoute {
  readonly method: string
  readonly template: string
  readonly auth: "jwt" | "token" | "any"
  readonly docs: string
  readonly handle: (context: RouteContext) => RouteReply
}

/** What an extra route sees: the request, its route parameters, the server's time and URLs, and who asks. */
export type RouteContext = Context

/** What an extra route answers. */
export type RouteReply = Reply

export interface TokenRecord {
  readonly token: string
  readonly installation: Installation
  readonly mintedAtMs: number
  readonly expiresAtMs: number
  readonly permissions: Readonly<Record<string, Level>>
  readonly repositories: ReadonlyArray<Repository> | undefined
  revoked: boolean
}

interface Bucket {
  readonly limit: number
  used: number
  resetAtMs: number
}

type Auth =
  | { readonly _tag: "Anonymous" }
  | { readonly _tag: "App" }
  | { readonly _tag: "Installation"; readonly token: TokenRecord }
  | { readonly _tag: "Refused"; readonly status: number; readonly message: string }

interface Reply {
  readonly status: number
  readonly body: string
  readonly headers?: Record<string, string> | undefined
}

interface Context {
  readonly request: CoreRequest
  readonly params: ReadonlyArray<string>
  readonly auth: Auth
  readonly now: number
  readonly urls: Urls
  readonly bucket: Bucket
}

interface Route {
  readonly method: string
  readonly template: string
  readonly key: string
  readonly segments: ReadonlyArray<string>
  /** `jwt`: app routes; `token`: installation routes; `any`: public. */
  readonly auth: "jwt" | "token" | "any"
  /** Not charged to the rate limit (GitHub does not count `GET /rate_limit`). */
  readonly free: boolean
  readonly docs: string
  readonly handle: (context: Context) => Reply
}

interface Rule {
  readonly matches: (method: string, key: string | undefined, path: string, record: () => RecordedRequest) => boolean
  readonly fault: Fault
  remaining: number
}

const DOCS = "https://docs.github.com/rest"
const RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
const JWT_UNDECODABLE = "A JSON web token could not be decoded"
const BAD_CREDENTIALS = "Bad credentials"
const IAT_MESSAGE = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."
const EXP_PAST_MESSAGE =
  "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."
const EXP_FAR_MESSAGE = "'Expiration time' claim ('exp') is too far in the future"
const TOKEN_REQUIRED = "You must authenticate with an installation access token in order to use this endpoint."
const SUSPENDED = "This installation has been suspended"
const NOT_GRANTED = "The permissions requested are not granted to this installation."
const NOT_ACCESSIBLE =
  "There is at least one repository that does not exist or is not accessible to the parent installation."
const MAX_REPOSITORIES = 500
const RANK: Readonly<Record<string, number>> = { read: 1, write: 2, admin: 3 }
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Requires authentication",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  422: "Validation Failed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}
const HTML_PAGE =
  "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>GitHub Enterprise</title></head>\n" +
  "<body><div class=\"application-main\"><h1>Sign in to GitHub Enterprise</h1></div></body>\n</html>\n"
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

const json = JSON.stringify

const errorReply = (status: number, message: string, docs: string, headers?: Record<string, string>): Reply => ({
  status,
  body: `{"message":${json(message)},"documentation_url":${json(docs)},"status":${json(String(status))}}`,
  headers
})

const parseId = (value: string): number | undefined => /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : undefined

const firstHeader = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

// Random bytes drawn in batches: one `randomBytes` call per token was the costliest step of a mint.
let entropy = Buffer.alloc(0)
let entropyOffset = 0
const newToken = (): string => {
  if (entropyOffset + 36 > entropy.length) {
    entropy = randomBytes(36 * 512)
    entropyOffset = 0
  }
  let out = "ghs_"
  for (let i = entropyOffset; i < entropyOffset + 36; i++) out += ALPHABET[entropy[i]! % 62]
  entropyOffset += 36
  return out
}

/** The shared core: `handle` plus the state the public API inspects and scripts. */
export const makeCore = (options: CoreOptions) => {
  const { prefix, world } = options
  const app = world.app
  let skewMs = options.skewMs
  let sequence = 0
  const records: Array<RecordedRequest & { status: number | undefined }> = []
  const counts = new Map<string, number>()
  let rules: Array<Rule> = []
  const tokens = new Map<string, TokenRecord>()
  // Verified JWT claims by JWT text: clients reuse a JWT for minutes, and verification is the costly step.
  const verified = new Map<string, { readonly claims: Record<string, unknown> } | { readonly failure: string }>()
  const appBucket: Bucket = { limit: options.appRateLimit, used: 0, resetAtMs: 0 }
  const installationBuckets = new Map<number, Bucket>()

  const touch = (bucket: Bucket, now: number): Bucket => {
    if (now >= bucket.resetAtMs) {
      bucket.used = 0
      bucket.resetAtMs = now + options.rateLimitWindowMs
    }
    return bucket
  }

  const bucketOf = (auth: Auth, now: number): Bucket => {
    switch (auth._tag) {
      case "App":
        return touch(appBucket, now)
      case "Installation": {
        const id = auth.token.installation.id
        let bucket = installationBuckets.get(id)
        if (bucket === undefined) {
          bucket = { limit: options.installationRateLimit, used: 0, resetAtMs: 0 }
          installationBuckets.set(id, bucket)
        }
        return touch(bucket, now)
      }
      default:
        // Unauthenticated requests are reported against GitHub's 60/h per-IP bucket; nothing here is charged to it.
        return { limit: 60, used: 0, resetAtMs: now + 3_600_000 }
    }
  }

  const rateLimitHeaders = (bucket: Bucket): Record<string, string> => ({
    "x-ratelimit-limit": String(bucket.limit),
    "x-ratelimit-remaining": String(Math.max(0, bucket.limit - bucket.used)),
    "x-ratelimit-used": String(bucket.used),
    "x-ratelimit-reset": String(Math.ceil(bucket.resetAtMs / 1000)),
    "x-ratelimit-resource": "core"
  })

  const rateLimitedMessage = (auth: Auth) =>
    auth._tag === "Installation"
      ? `API rate limit exceeded for installation ID ${auth.token.installation.id}.`
      : auth._tag === "App"
      ? `API rate limit exceeded for app ID ${app.id}.`
      : "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher " +
        "rate limit. Check out the documentation for more details.)"

  // --- authentication --------------------------------------------------------------------------------------

  const verify = (jwt: string) => {
    const cached = verified.get(jwt)
    if (cached !== undefined) return Effect.succeed(cached)
    return Effect.promise(() =>
      compactVerify(jwt, options.publicKey, { algorithms: ["RS256"] }).then(
        (result) => {
          try {
            const claims = JSON.parse(new TextDecoder().decode(result.payload))
            return claims !== null && typeof claims === "object" && !Array.isArray(claims)
              ? { claims: claims as Record<string, unknown> }
              : { failure: JWT_UNDECODABLE }
          } catch {
            return { failure: JWT_UNDECODABLE }
          }
        },
        // A well-formed JWT whose signature fails (another key) gets "Bad credentials"; anything else undecodable.
        (error) => ({
          failure: error?.code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" ? BAD_CREDENTIALS : JWT_UNDECODABLE
        })
      )
    ).pipe(Effect.tap((entry) => {
      if (verified.size >= 10_000) verified.clear()
      verified.set(jwt, entry)
    }))
  }

  // GitHub's rules, judged by the server's clock: iss is the app id or client id, iat not in the future,
  // exp in the future but at most 10 minutes ahead.
  const checkClaims = (claims: Record<string, unknown>, now: number): string | undefined => {
    const nowSeconds = Math.floor(now / 1000)
    const { exp, iat, iss } = claims
    if (!(iss === app.clientId || String(iss) === String(app.id))) return JWT_UNDECODABLE
    if (typeof iat !== "number" || !Number.isInteger(iat) || iat > nowSeconds) return IAT_MESSAGE
    if (typeof exp !== "number" || exp <= nowSeconds) return EXP_PAST_MESSAGE
    if (exp > nowSeconds + 600) return EXP_FAR_MESSAGE
    return undefined
  }

  const authenticate = (route: Route, header: string | undefined, now: number): Effect.Effect<Auth> => {
    if (header === undefined || header.trim() === "") {
      return Effect.succeed(
        route.auth === "any"
          ? { _tag: "Anonymous" }
          : { _tag: "Refused", status: 401, message: route.auth === "jwt" ? JWT_UNDECODABLE : STATUS_TEXT[401]! }
      )
    }
    const space = header.indexOf(" ")
    const scheme = space < 0 ? "" : header.slice(0, space).toLowerCase()
    const credential = space < 0 ? header : header.slice(space + 1).trim()
    if (scheme === "bearer" && credential.split(".").length === 3) {
      return Effect.map(verify(credential), (entry): Auth => {
        const failure = "failure" in entry ? entry.failure : checkClaims(entry.claims, now)
        if (failure !== undefined) {
          return { _tag: "Refused", status: 401, message: route.auth === "token" ? BAD_CREDENTIALS : failure }
        }
        return route.auth === "token" ? { _tag: "Refused", status: 403, message: TOKEN_REQUIRED } : { _tag: "App" }
      })
    }
    if (route.auth === "jwt") return Effect.succeed({ _tag: "Refused", status: 401, message: JWT_UNDECODABLE })
    const token = scheme === "bearer" || scheme === "token" ? tokens.get(credential) : undefined
    if (token === undefined || token.revoked || now >= token.expiresAtMs) {
      return Effect.succeed({ _tag: "Refused", status: 401, message: BAD_CREDENTIALS })
    }
    return Effect.succeed({ _tag: "Installation", token })
  }

  // --- pagination ------------------------------------------------------------------------------------------

  const paginate = (context: Context, total: number) => {
    const query = context.request.url.searchParams
    const perPageParam = Number.parseInt(query.get("per_page") ?? "", 10)
    const perPage = perPageParam >= 1 ? Math.min(perPageParam, 100) : 30
    const page = Math.max(1, Number.parseInt(query.get("page") ?? "", 10) || 1)
    const last = Math.max(1, Math.ceil(total / perPage))
    const url = context.request.url
    const link = (target: number, rel: string) => {
      const params = new URLSearchParams(url.search)
      params.set("page", String(target))
      return `<${url.origin}${url.pathname}?${params}>; rel="${rel}"`
    }
    const links: Array<string> = []
    if (page > 1) links.push(link(Math.min(page - 1, last), "prev"))
    if (page < last) links.push(link(page + 1, "next"), link(last, "last"))
    if (page > 1) links.push(link(1, "first"))
    const start = Math.min(total, (page - 1) * perPage)
    return {
      start,
      end: Math.min(total, start + perPage),
      headers: links.length > 0 ? { link: links.join(", ") } : undefined
    }
  }

  // --- route handlers --------------------------------------------------------------------------------------

  const installationReply = (installation: Installation | undefined, context: Context, docs: string): Reply =>
    installation === undefined
      ? errorReply(404, "Not Found", docs)
      : { status: 200, body: renderInstallation(app, installation, context.urls) }

  const firstUpdatedSince = (since: number): number => {
    const list = world.installations
    let low = 0
    let high = list.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (list[mid]!.updatedAtMs < since) low = mid + 1
      else high = mid
    }
    return low
  }

  const listInstallations = (context: Context): Reply => {
    const sinceParam = context.request.url.searchParams.get("since")
    const since = sinceParam === null ? Number.NaN : Date.parse(sinceParam)
    const from = Number.isNaN(since) ? 0 : firstUpdatedSince(since)
    const total = world.installations.length - from
    const page = paginate(context, total)
    let body = "["
    for (let i = from + page.start; i < from + page.end; i++) {
      if (i > from + page.start) body += ","
      body += renderInstallation(app, world.installations[i]!, context.urls)
    }
    return { status: 200, body: body + "]", headers: page.headers }
  }

  const mintToken = (context: Context, docs: string): Reply => {
    const id = parseId(context.params[0]!)
    const installation = id === undefined ? undefined : world.byId(id)
    if (installation === undefined) return errorReply(404, "Not Found", docs)
    if (installation.suspendedAt !== undefined) return errorReply(403, SUSPENDED, docs)
    let body: unknown = {}
    if (context.request.body.trim() !== "") {
      try {
        body = JSON.parse(context.request.body)
      } catch {
        return errorReply(400, "Problems parsing JSON", docs)
      }
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return errorReply(400, "Problems parsing JSON", docs)
    }
    const { permissions, repositories, repository_ids } = body as Record<string, unknown>
    const invalid = (field: string, value: unknown, kind: string) =>
      errorReply(422, `Invalid request.\n\nFor 'properties/${field}', ${json(value)} is not ${kind}.`, docs)
    let requested: Record<string, Level> | undefined
    if (permissions !== undefined && permissions !== null) {
      if (typeof permissions !== "object" || Array.isArray(permissions)) {
        return invalid("permissions", permissions, "an object")
      }
      for (const [name, level] of Object.entries(permissions)) {
        const granted = installation.permissions[name]
        if (typeof level !== "string" || RANK[level] === undefined || granted === undefined) {
          return errorReply(422, NOT_GRANTED, docs)
        }
        if (RANK[level]! > RANK[granted]!) return errorReply(422, NOT_GRANTED, docs)
      }
      if (Object.keys(permissions).length > 0) requested = permissions as Record<string, Level>
    }
    const names = repositories ?? []
    const ids = repository_ids ?? []
    if (!Array.isArray(names) || names.some((name) => typeof name !== "string")) {
      return invalid("repositories", repositories, "an array of strings")
    }
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "number" || !Number.isInteger(id))) {
      return invalid("repository_ids", repository_ids, "an array of integers")
    }
    if (names.length + ids.length > MAX_REPOSITORIES) {
      return errorReply(422, `Too many repositories: at most ${MAX_REPOSITORIES} can be listed.`, docs)
    }
    let narrowed: Array<Repository> | undefined
    if (names.length + ids.length > 0) {
      const wantedNames = new Set(names.map((name: string) => name.toLowerCase()))
      const wantedIds = new Set<number>(ids)
      narrowed = installation.repositories.filter((repository) =>
        wantedNames.has(repository.name.toLowerCase()) || wantedIds.has(repository.id)
      )
      const foundNames = new Set(narrowed.map((repository) => repository.name.toLowerCase()))
      const foundIds = new Set(narrowed.map((repository) => repository.id))
      for (const name of wantedNames) if (!foundNames.has(name)) return errorReply(422, NOT_ACCESSIBLE, docs)
      for (const id of wantedIds) if (!foundIds.has(id)) return errorReply(422, NOT_ACCESSIBLE, docs)
    }
    // Asking for some permissions still yields metadata:read, as on GitHub.
    const granted: Record<string, Level> = requested === undefined
      ? { ...installation.permissions }
      : installation.permissions.metadata !== undefined && requested.metadata === undefined
      ? { ...requested, metadata: "read" }
      : { ...requested }
    const record: TokenRecord = {
      token: newToken(),
      installation,
      mintedAtMs: context.now,
      expiresAtMs: Math.floor((context.now + options.tokenLifetimeMs) / 1000) * 1000,
      permissions: granted,
      repositories: narrowed,
      revoked: false
    }
    tokens.set(record.token, record)
    const selection = narrowed === undefined ? installation.repositorySelection : "selected"
    let out = `{"token":${json(record.token)},"expires_at":${json(isoSeconds(record.expiresAtMs))},"permissions":${
      json(granted)
    },"repository_selection":${json(selection)}`
    if (narrowed !== undefined) {
      out += `,"repositories":[${narrowed.map((repository) => renderRepository(repository, context.urls)).join(",")}]`
    }
    return { status: 201, body: out + "}" }
  }

  const listRepositories = (context: Context, docs: string): Reply => {
    const token = (context.auth as Extract<Auth, { _tag: "Installation" }>).token
    if (token.installation.suspendedAt !== undefined) return errorReply(403, SUSPENDED, docs)
    const repositories = token.repositories ?? token.installation.repositories
    const page = paginate(context, repositories.length)
    const selection = token.repositories === undefined ? token.installation.repositorySelection : "selected"
    let body = `{"total_count":${repositories.length},"repository_selection":${json(selection)},"repositories":[`
    for (let i = page.start; i < page.end; i++) {
      if (i > page.start) body += ","
      body += renderRepository(repositories[i]!, context.urls)
    }
    return { status: 200, body: body + "]}", headers: page.headers }
  }

  const suspend = (context: Context, docs: string, suspended: boolean): Reply => {
    const id = parseId(context.params[0]!)
    const installation = id === undefined ? undefined : world.byId(id)
    if (installation === undefined) return errorReply(404, "Not Found", docs)
    installation.suspendedAt = suspended
      ? installation.suspendedAt ?? isoSeconds(context.now + skewMs)
      : undefined
    return { status: 204, body: "" }
  }

  const rateLimit = (context: Context): Reply => {
    const bucket = context.bucket
    const core = `{"limit":${bucket.limit},"used":${bucket.used},"remaining":${
      Math.max(0, bucket.limit - bucket.used)
    },"reset":${Math.ceil(bucket.resetAtMs / 1000)}}`
    const reset = Math.ceil((context.now + 3_600_000) / 1000)
    const other = (limit: number) => `{"limit":${limit},"used":0,"remaining":${limit},"reset":${reset}}`
    return {
      status: 200,
      body: `{"resources":{"core":${core},"search":${other(30)},"graphql":${other(5000)},` +
        `"integration_manifest":${other(5000)},"code_search":${other(10)}},"rate":${core}}`
    }
  }

  const defineRoute = (
    method: string,
    template: string,
    auth: Route["auth"],
    docs: string,
    handle: (context: Context, docs: string) => Reply,
    free = false
  ): Route => ({
    method,
    template,
    key: `${method} ${template}`,
    segments: template.split("/"),
    auth,
    free,
    docs,
    handle: (context) => handle(context, docs)
  })

  const appsDocs = "https://docs.github.com/rest/apps/apps"
  const routes: ReadonlyArray<Route> = [
    defineRoute("GET", "/app", "jwt", `${appsDocs}#get-the-authenticated-app`, (context) => ({
      status: 200,
      body: renderApp(app, world.installations.length, context.urls)
    })),
    defineRoute(
      "GET",
      "/app/installations",
      "jwt",
      `${appsDocs}#list-installations-for-the-authenticated-app`,
      (c) => listInstallations(c)
    ),
    defineRoute(
      "GET",
      "/app/installations/{installation_id}",
      "jwt",
      `${appsDocs}#get-an-installation-for-the-authenticated-app`,
      (context, docs) => {
        const id = parseId(context.params[0]!)
        return installationReply(id === undefined ? undefined : world.byId(id), context, docs)
      }
    ),
    defineRoute(
      "POST",
      "/app/installations/{installation_id}/access_tokens",
      "jwt",
      `${appsDocs}#create-an-installation-access-token-for-an-app`,
      mintToken
    ),
    defineRoute(
      "DELETE",
      "/app/installations/{installation_id}",
      "jwt",
      `${appsDocs}#delete-an-installation-for-the-authenticated-app`,
      (context, docs) => {
        const id = parseId(context.params[0]!)
        const removed = id === undefined ? undefined : world.remove(id)
        if (removed === undefined) return errorReply(404, "Not Found", docs)
        // GitHub revokes an uninstalled app's tokens
        for (const record of tokens.values()) if (record.installation === removed) record.revoked = true
        return { status: 204, body: "" }
      }
    ),
    defineRoute(
      "PUT",
      "/app/installations/{installation_id}/suspended",
      "jwt",
      `${appsDocs}#suspend-an-app-installation`,
      (context, docs) => suspend(context, docs, true)
    ),
    defineRoute(
      "DELETE",
      "/app/installations/{installation_id}/suspended",
      "jwt",
      `${appsDocs}#unsuspend-an-app-installation`,
      (context, docs) => suspend(context, docs, false)
    ),
    defineRoute(
      "GET",
      "/orgs/{org}/installation",
      "jwt",
      `${appsDocs}#get-an-organization-installation-for-the-authenticated-app`,
      (context, docs) => {
        const installation = world.byAccount(context.params[0]!)
        return installationReply(
          installation?.account.type === "Organization" ? installation : undefined,
          context,
          docs
        )
      }
    ),
    defineRoute(
      "GET",
      "/repos/{owner}/{repo}/installation",
      "jwt",
      `${appsDocs}#get-a-repository-installation-for-the-authenticated-app`,
      (context, docs) =>
        installationReply(world.byRepository(`${context.params[0]}/${context.params[1]}`), context, docs)
    ),
    defineRoute(
      "GET",
      "/users/{username}/installation",
      "jwt",
      `${appsDocs}#get-a-user-installation-for-the-authenticated-app`,
      (context, docs) => {
        // As on GitHub, the users route resolves any account that can own repositories, organizations too.
        const installation = world.byAccount(context.params[0]!)
        return installationReply(installation?.account.type === "Enterprise" ? undefined : installation, context, docs)
      }
    ),
    defineRoute(
      "GET",
      "/enterprises/{enterprise}/installation",
      "jwt",
      "https://docs.github.com/enterprise-cloud@latest/rest/apps/apps#get-an-enterprise-installation-for-the-authenticated-app",
      (context, docs) => {
        const installation = world.byAccount(context.params[0]!)
        return installationReply(installation?.account.type === "Enterprise" ? installation : undefined, context, docs)
      }
    ),
    defineRoute(
      "GET",
      "/installation/repositories",
      "token",
      "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation",
      listRepositories
    ),
    defineRoute(
      "DELETE",
      "/installation/token",
      "token",
      "https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token",
      (context) => {
        ;(context.auth as Extract<Auth, { _tag: "Installation" }>).token.revoked = true
        return { status: 204, body: "" }
      }
    ),
    defineRoute(
      "GET",
      "/rate_limit",
      "any",
      "https://docs.github.com/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user",
      rateLimit,
      true
    ),
    ...(options.extraRoutes ?? []).map((route) =>
      defineRoute(route.method, route.template, route.auth, route.docs, (context) => route.handle(context))
    )
  ]

  const matchRoute = (method: string, path: string): { route: Route; params: Array<string> } | undefined => {
    const segments = path.split("/")
    for (const route of routes) {
      if (route.method !== method || route.segments.length !== segments.length) continue
      const params: Array<string> = []
      let ok = true
      for (let i = 0; i < segments.length && ok; i++) {
        const expected = route.segments[i]!
        if (expected.startsWith("{")) {
          try {
            const value = decodeURIComponent(segments[i]!)
            if (value === "") ok = false
            else params.push(value)
          } catch {
            ok = false
          }
        } else {
          ok = expected === segments[i]
        }
      }
      if (ok) return { route, params }
    }
    return undefined
  }

  // --- faults ----------------------------------------------------------------------------------------------

  const compileMatcher = (matcher: RouteMatcher): Rule["matches"] => {
    if (typeof matcher === "function") return (_method, _key, _path, record) => matcher(record())
    const text = matcher.trim()
    if (text === "*") return () => true
    const space = text.indexOf(" ")
    const method = space < 0 ? undefined : text.slice(0, space).toUpperCase()
    const pattern = space < 0 ? text : text.slice(space + 1).trim()
    return (requestMethod, key, path) =>
      (method === undefined || method === requestMethod) &&
      (pattern === path || (key !== undefined && pattern === key.slice(key.indexOf(" ") + 1)))
  }

  const takeFault = (
    delays: boolean,
    method: string,
    key: string | undefined,
    path: string,
    record: () => RecordedRequest,
    tokenAgeMs: number | undefined
  ): Fault | undefined => {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!
      if ((rule.fault._tag === "Delay") !== delays) continue
      if (rule.fault._tag === "ReplicationLag") {
        if (tokenAgeMs === undefined || tokenAgeMs >= Duration.toMillis(rule.fault.duration)) continue
      }
      if (!rule.matches(method, key, path, record)) continue
      rule.remaining -= 1
      if (rule.remaining <= 0) rules.splice(i, 1)
      return rule.fault
    }
    return undefined
  }

  // --- the pipeline ----------------------------------------------------------------------------------------

  const finish = (reply: Reply, requestId: string, now: number, bucket: Bucket | undefined): CoreReply => {
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      date: new Date(now).toUTCString(),
      "x-github-request-id": requestId,
      "x-github-media-type": "github.v3; format=json",
      "x-github-api-version-selected": "2022-11-28",
      ...(bucket === undefined ? undefined : rateLimitHeaders(bucket)),
      ...reply.headers
    }
    return { _tag: "Reply", status: reply.status, headers, body: reply.body }
  }

  const respond = (
    request: CoreRequest,
    match: { route: Route; params: Array<string> } | undefined,
    auth: Auth,
    clockNow: number,
    requestId: string,
    path: string,
    record: () => RecordedRequest
  ): CoreReply => {
    const now = clockNow + skewMs
    const tokenAge = auth._tag === "Installation" ? now - auth.token.mintedAtMs : undefined
    const fault = rules.length === 0
      ? undefined
      : takeFault(false, request.method, match?.route.key, path, record, tokenAge)
    const bucket = bucketOf(auth, now)
    const docs = match?.route.docs ?? DOCS
    let post: Fault | undefined
    if (fault !== undefined) {
      switch (fault._tag) {
        case "ConnectionReset":
          return { _tag: "Reset" }
        case "Html":
          return {
            _tag: "Reply",
            status: fault.status,
            headers: {
              "content-type": "text/html; charset=utf-8",
              date: new Date(now).toUTCString(),
              "x-github-request-id": requestId
            },
            body: HTML_PAGE
          }
        case "Status":
          return finish(
            errorReply(fault.status, fault.message ?? STATUS_TEXT[fault.status] ?? "Server Error", docs),
            requestId,
            now,
            bucket
          )
        case "SecondaryRateLimit": {
          const message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
            `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`
          const headers = fault.retryAfter === undefined
            ? undefined
            : { "retry-after": String(Math.ceil(Duration.toMillis(fault.retryAfter) / 1000)) }
          return finish(
            errorReply(fault.status, message, `${RATE_DOCS}#about-secondary-rate-limits`, headers),
            requestId,
            now,
            bucket
          )
        }
        case "PrimaryRateLimit": {
          bucket.used = bucket.limit
          bucket.resetAtMs = now + Duration.toMillis(fault.resetAfter)
          return finish(errorReply(403, rateLimitedMessage(auth), RATE_DOCS), requestId, now, bucket)
        }
        case "ReplicationLag":
          return finish(errorReply(401, BAD_CREDENTIALS, DOCS), requestId, now, bucket)
        default:
          post = fault
      }
    }
    let reply: Reply
    if (match === undefined) {
      reply = errorReply(404, "Not Found", DOCS)
    } else if (auth._tag === "Refused") {
      reply = errorReply(auth.status, auth.message, docs)
    } else if (!match.route.free && auth._tag !== "Anonymous" && bucket.used >= bucket.limit) {
      reply = errorReply(403, rateLimitedMessage(auth), RATE_DOCS)
    } else {
      if (!match.route.free && auth._tag !== "Anonymous") bucket.used += 1
      const urls: Urls = {
        api: request.url.origin + prefix,
        web: prefix === "" ? "https://github.com" : request.url.origin
      }
      reply = match.route.handle({ request, params: match.params, auth, now, urls, bucket })
    }
    if (post?._tag === "TruncatedJson") {
      reply = { ...reply, body: reply.body.slice(0, Math.floor(reply.body.length / 2)) }
    }
    if (post?._tag === "MalformedJson") reply = { ...reply, body: `{"message": "Not Found", documentation_url: }` }
    return finish(reply, requestId, now, bucket)
  }

  const redact = (headers: CoreRequest["headers"]): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue
      const text = typeof value === "string" ? value : value.join(", ")
      if (name === "authorization" || name === "cookie" || name === "proxy-authorization") {
        const space = text.indexOf(" ")
        out[name] = space < 0 ? "<redacted>" : `${text.slice(0, space)} <redacted>`
      } else {
        out[name] = text
      }
    }
    return out
  }

  const parseBody = (body: string): unknown => {
    if (body === "") return undefined
    try {
      return JSON.parse(body)
    } catch {
      return body
    }
  }

  let closed = false

  const handle = (request: CoreRequest): Effect.Effect<CoreReply> =>
    closed ? Effect.succeed({ _tag: "Reset" }) : Effect.flatMap(Clock.currentTimeMillis, (clockNow) => {
      const n = ++sequence
      const requestId = `5E1D:${n.toString(16).toUpperCase().padStart(6, "0")}:${app.id.toString(16).toUpperCase()}:0:0`
      const fullPath = request.url.pathname
      const path = fullPath.startsWith(prefix) && (fullPath.length === prefix.length || fullPath[prefix.length] === "/")
        ? fullPath.slice(prefix.length) || "/"
        : undefined
      const match = path === undefined ? undefined : matchRoute(request.method, path)
      const key = match?.route.key
      counts.set(key ?? "unmatched", (counts.get(key ?? "unmatched") ?? 0) + 1)
      let recorded: (RecordedRequest & { status: number | undefined }) | undefined
      const record = (): RecordedRequest =>
        recorded ??= {
          method: request.method,
          url: request.url.href,
          path: path ?? fullPath,
          route: key,
          params: match?.params ?? [],
          query: Object.fromEntries(request.url.searchParams),
          headers: redact(request.headers),
          body: parseBody(request.body),
          timestamp: clockNow,
          status: undefined
        }
      if (options.record) records.push(record() as RecordedRequest & { status: number | undefined })
      const notePath = path ?? fullPath
      const delay = rules.length === 0
        ? undefined
        : takeFault(true, request.method, key, notePath, record, undefined)
      const afterDelay = delay?._tag === "Delay"
        ? Effect.zipRight(Effect.sleep(delay.duration), Clock.currentTimeMillis)
        : Effect.succeed(clockNow)
      return Effect.flatMap(afterDelay, (at) => {
        const header = firstHeader(request.headers["authorization"])
        const auth = match === undefined
          ? Effect.succeed<Auth>({ _tag: "Anonymous" })
          : authenticate(match.route, header, at + skewMs)
        return Effect.map(auth, (auth) => {
          const reply = respond(request, match, auth, at, requestId, notePath, record)
          if (recorded !== undefined) recorded.status = reply._tag === "Reply" ? reply.status : undefined
          return reply
        })
      })
    })

  return {
    handle,
    close: () => {
      closed = true
    },
    addFault: (matcher: RouteMatcher, faults: ReadonlyArray<Fault>, times: number) => {
      const matches = compileMatcher(matcher)
      if (faults.length === 1) rules.push({ matches, fault: faults[0]!, remaining: times })
      else for (const fault of faults) rules.push({ matches, fault, remaining: 1 })
    },
    clearFaults: () => {
      rules = []
    },
    setSkew: (ms: number) => {
      skewMs = ms
    },
    skew: () => skewMs,
    records: (): ReadonlyArray<RecordedRequest> => records.slice(),
    count: (route: string): number => {
      const text = route.trim()
      if (text === "*") {
        let total = 0
        for (const value of counts.values()) total += value
        return total
      }
      if (text.includes(" ")) {
        const space = text.indexOf(" ")
        return counts.get(`${text.slice(0, space).toUpperCase()} ${text.slice(space + 1).trim()}`) ?? 0
      }
      let total = 0
      for (const [key, value] of counts) if (key.slice(key.indexOf(" ") + 1) === text) total += value
      return total
    },
    resetRequests: () => {
      records.length = 0
      counts.clear()
    },
    tokens: (): ReadonlyArray<TokenRecord> => Array.from(tokens.values()),
    setSuspended: (id: number, suspended: boolean, now: number): boolean => {
      const installation = world.byId(id)
      if (installation === undefined) return false
      installation.suspendedAt = suspended ? new Date(now + skewMs).toISOString() : undefined
      return true
    }
  }
}

/** @internal */
export type Core = ReturnType<typeof makeCore>

/** @internal */
export const toIssuedToken = (record: TokenRecord): IssuedToken => ({
  token: Redacted.make(record.token),
  installationId: record.installation.id,
  mintedAt: new Date(record.mintedAtMs),
  expiresAt: new Date(record.expiresAtMs),
  permissions: record.permissions,
  repositoryIds: record.repositories?.map((repository) => repository.id),
  revoked: record.revoked
})
