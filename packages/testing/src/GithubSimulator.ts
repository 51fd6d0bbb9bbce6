/**
 * A stateful GitHub App API simulator: GitHub's wire JSON, auth rules, rate limits and scriptable faults, served
 * in-process as an `HttpClient` layer and, on demand, by a real HTTP server on 127.0.0.1.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { importSPKI } from "jose"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type { Fault } from "./Fault.js"
import { type CoreReply, type CoreRequest, makeCore, toIssuedToken } from "./internal/core.js"
import * as Hooks from "./internal/hooks.js"
import * as State from "./internal/state.js"

/**
 * A permission level, as GitHub spells it.
 *
 * @since 0.1.0
 * @category models
 */
export type PermissionLevel = "read" | "write" | "admin"

/**
 * An installation a test asks for. Ids are given in order: the specs first (1, 2, ...), then the generated ones.
 *
 * @since 0.1.0
 * @category models
 */
export interface InstallationSpec {
  /** Account login (organization, user) or enterprise slug; unique per simulator. */
  readonly account: string
  /** Default `Organization`. */
  readonly type?: "User" | "Organization" | "Enterprise" | undefined
  /** Repository names, or how many to generate (`repo-1`, `repo-2`, ...). Default `repositoriesPerInstallation`. */
  readonly repositories?: ReadonlyArray<string> | number | undefined
  /** Default `all`. */
  readonly repositorySelection?: "all" | "selected" | undefined
  /** Default: the app's permissions. */
  readonly permissions?: Readonly<Record<string, PermissionLevel>> | undefined
  readonly events?: ReadonlyArray<string> | undefined
  readonly suspended?: boolean | undefined
  /** Whether its repositories are private. Default false. */
  readonly private?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default 1. */
  readonly appId?: number | undefined
  /** Default `Iv23li` followed by the app id in base 36, padded to GitHub's 20 characters. */
  readonly clientId?: string | undefined
  readonly slug?: string | undefined
  readonly name?: string | undefined
  /** The owner organization's login. */
  readonly owner?: string | undefined
  /** The app's permissions, and the default of each installation's. */
  readonly permissions?: Readonly<Record<string, PermissionLevel>> | undefined
  readonly events?: ReadonlyArray<string> | undefined
  /** Installations a test asks for; they come first. */
  readonly installations?: ReadonlyArray<InstallationSpec> | undefined
  /** Generated installations after the specs, cycling Organization, User, Enterprise. Default 3. */
  readonly installationCount?: number | undefined
  /** Repositories of each generated (and unspecified) installation. Default 2. */
  readonly repositoriesPerInstallation?: number | undefined
  /** A PEM private key (PKCS#1 or PKCS#8) to use instead of the generated RSA-2048 key. */
  readonly privateKey?: string | Redacted.Redacted<string> | undefined
  /** Server clock minus the client's; a negative number of milliseconds (or "-30 seconds") puts GitHub behind. */
  readonly skew?: Duration.DurationInput | undefined
  /** Requests per window for app JWTs and for each installation. Default 5000 and 5000 per hour. */
  readonly rateLimit?: {
    readonly app?: number | undefined
    readonly installation?: number | undefined
    readonly window?: Duration.DurationInput | undefined
  } | undefined
  /** Routes are served under this prefix, e.g. `/api/v3` for GHES. Default "". */
  readonly pathPrefix?: string | undefined
  /** Origin of the in-process client's base URL. Default `https://api.github.test`. */
  readonly origin?: string | undefined
  /** Installation token lifetime. Default 1 hour. */
  readonly tokenLifetime?: Duration.DurationInput | undefined
  /** Keep every request for `requests` (counts are always kept). Default true; benchmarks turn it off. */
  readonly recordRequests?: boolean | undefined
  /** The app's webhook: where deliveries go and the secret they are signed with (`PATCH /app/hook/config` too). */
  readonly webhook?: {
    readonly url?: string | undefined
    readonly secret?: string | Redacted.Redacted<string> | undefined
    /** Default `json`; `form` sends `payload=<json>` as GitHub's form content type does. */
    readonly contentType?: "json" | "form" | undefined
  } | undefined
}

/**
 * A webhook delivery the simulator made, with its outcome (`statusCode` 0: no HTTP response).
 *
 * @since 0.1.0
 * @category models
 */
export type SimulatedDelivery = Hooks.DeliveryRecord

/**
 * An issue comment an installation made (`POST /repos/{owner}/{repo}/issues/{issue_number}/comments`).
 *
 * @since 0.1.0
 * @category models
 */
export type SimulatedComment = Hooks.CommentRecord

/**
 * @since 0.1.0
 * @category models
 */
export interface SimulatedApp {
  readonly id: number
  readonly clientId: string
  readonly slug: string
  readonly name: string
  readonly owner: string
  /** PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), as GitHub issues it. */
  readonly privateKey: Redacted.Redacted<string>
  /** SPKI PEM. */
  readonly publicKey: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SimulatedRepository {
  readonly id: number
  readonly name: string
  readonly fullName: string
  readonly private: boolean
}

/**
 * An installation as the simulator holds it (`suspendedAt` follows `setSuspended`).
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedInstallation {
  readonly id: number
  readonly account: {
    readonly id: number
    readonly login: string
    readonly type: "User" | "Organization" | "Enterprise"
  }
  readonly permissions: Readonly<Record<string, PermissionLevel>>
  readonly events: ReadonlyArray<string>
  readonly repositorySelection: "all" | "selected"
  readonly repositories: ReadonlyArray<SimulatedRepository>
  readonly createdAt: string
  readonly suspendedAt: string | undefined
}

/**
 * A request as the simulator received it. `route` is the matched template with its method, e.g.
 * `"GET /app/installations/{installation_id}"` (undefined for unknown routes); `path` excludes the prefix;
 * credentials in `authorization` are replaced by `<redacted>`; `status` is undefined for a reset connection.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly path: string
  readonly route: string | undefined
  readonly params: ReadonlyArray<string>
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  /** Client clock (not skewed) when the request arrived, in milliseconds. */
  readonly timestamp: number
  readonly status: number | undefined
}

/**
 * An installation token the simulator minted.
 *
 * @since 0.1.0
 * @category models
 */
export interface IssuedToken {
  readonly token: Redacted.Redacted<string>
  readonly installationId: number
  /** Server time. */
  readonly mintedAt: Date
  readonly expiresAt: Date
  readonly permissions: Readonly<Record<string, PermissionLevel>>
  /** Set when the token was narrowed to some repositories. */
  readonly repositoryIds: ReadonlyArray<number> | undefined
  readonly revoked: boolean
}

/**
 * Which requests a fault applies to: `"*"`, `"METHOD /route/{template}"`, `"/route/{template}"` (any method),
 * a concrete path (`"GET /app/installations/7"`), or a predicate.
 *
 * @since 0.1.0
 * @category models
 */
export type RouteMatcher = string | ((request: RecordedRequest) => boolean)

/**
 * @since 0.1.0
 * @category models
 */
export interface Simulator {
  readonly app: SimulatedApp
  readonly installations: ReadonlyArray<SimulatedInstallation>
  /** The in-process base URL (origin + prefix), e.g. `https://api.github.test`. */
  readonly baseUrl: string
  readonly pathPrefix: string
  /** In-process transport: no sockets; routes on the path only, so any base URL works. */
  readonly client: HttpClient.HttpClient
  readonly layer: Layer.Layer<HttpClient.HttpClient>
  /** A loopback server on 127.0.0.1 with a random port, stopped when the scope closes. */
  readonly server: Effect.Effect<ServerInfo, never, Scope.Scope>
  readonly serve: (options?: {
    readonly port?: number | undefined
    readonly host?: string | undefined
  }) => Effect.Effect<ServerInfo, never, Scope.Scope>
  /**
   * Scripts a fault. A single fault applies to the next `times` matching requests (default 1, `Infinity` for
   * all); a list applies its faults one request each, in order. Faults queue in the order they were added.
   */
  readonly fault: (
    route: RouteMatcher,
    fault: Fault | ReadonlyArray<Fault>,
    options?: { readonly times?: number | undefined }
  ) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  readonly setSkew: (skew: Duration.DurationInput) => Effect.Effect<void>
  readonly setSuspended: (installationId: number, suspended: boolean) => Effect.Effect<void>
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** Requests per route: `"GET /app"`, `"/app/installations/{installation_id}"` (all methods), or `"*"`. */
  readonly count: (route: string) => Effect.Effect<number>
  readonly resetRequests: Effect.Effect<void>
  readonly tokens: Effect.Effect<ReadonlyArray<IssuedToken>>
  /** Tokens neither revoked nor expired by the server's clock. */
  readonly activeTokens: Effect.Effect<ReadonlyArray<IssuedToken>>
  /** Sends a signed delivery of any event to the webhook URL and returns its recorded outcome. */
  readonly deliver: (event: string, payload: unknown) => Effect.Effect<SimulatedDelivery>
  /** Sends a recorded delivery again, same `X-GitHub-Delivery` (as a redelivery); undefined for an unknown id. */
  readonly replay: (deliveryId: number) => Effect.Effect<SimulatedDelivery | undefined>
  /** Every delivery made, oldest first (what `GET /app/hook/deliveries` lists, newest first). */
  readonly deliveries: Effect.Effect<ReadonlyArray<SimulatedDelivery>>
  /** Points the webhook elsewhere or changes its secret. */
  readonly setWebhook: (webhook: NonNullable<Options["webhook"]>) => Effect.Effect<void>
  /** The installation events GitHub sends for changes of an installation's state. */
  readonly installationEvent: (
    installationId: number,
    action: "created" | "deleted" | "suspend" | "unsuspend" | "new_permissions_accepted"
  ) => Effect.Effect<SimulatedDelivery>
  /** `installation_repositories` added/removed for some of an installation's repositories (by name). */
  readonly repositoriesEvent: (
    installationId: number,
    action: "added" | "removed",
    repositories: ReadonlyArray<string>
  ) => Effect.Effect<SimulatedDelivery>
  /** Issue comments made by installations. */
  readonly comments: Effect.Effect<ReadonlyArray<SimulatedComment>>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ServerInfo {
  /** `http://127.0.0.1:<port>` + prefix. */
  readonly url: string
  readonly port: number
}

/**
 * @since 0.1.0
 * @category tags
 */
export class GithubSimulator extends Context.Tag("@effect-github/testing/GithubSimulator")<
  GithubSimulator,
  Simulator
>() {}

const DEFAULT_PERMISSIONS: Readonly<Record<string, PermissionLevel>> = {
  checks: "write",
  contents: "read",
  issues: "write",
  metadata: "read",
  pull_requests: "write"
}

interface KeyPair {
  readonly privateKey: string
  readonly publicKey: string
}

// One RSA-2048 pair per process: generating one costs ~100 ms, and suites build many simulators.
let sharedKeyPair: Promise<KeyPair> | undefined
const generatedKeyPair = (): Promise<KeyPair> =>
  sharedKeyPair ??= new Promise((resolve, reject) =>
    Crypto.generateKeyPair(
      "rsa",
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "pkcs1", format: "pem" }
      },
      (error, publicKey, privateKey) => error ? reject(error) : resolve({ publicKey, privateKey })
    )
  )

const keyPairOf = (pem: string): KeyPair => {
  const key = Crypto.createPrivateKey(pem)
  return {
    privateKey: key.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKey: Crypto.createPublicKey(key).export({ type: "spki", format: "pem" }).toString()
  }
}

const skewMillis = (input: Duration.DurationInput): number =>
  typeof input === "number"
    ? input
    : typeof input === "string" && input.trim().startsWith("-")
    ? -Duration.toMillis(Duration.decode(input.trim().slice(1) as Duration.DurationInput))
    : Duration.toMillis(Duration.decode(input))

const requestBody = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<string> => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return Effect.succeed(new TextDecoder().decode(body.body))
    case "Raw":
      return Effect.succeed(
        typeof body.body === "string"
          ? body.body
          : body.body instanceof Uint8Array
          ? new TextDecoder().decode(body.body)
          : String(body.body)
      )
    case "Stream":
      return body.stream.pipe(
        Stream.runCollect,
        Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks)).toString("utf8")),
        Effect.orElseSucceed(() => "")
      )
    default:
      return Effect.succeed("")
  }
}

/**
 * Builds a simulator. The in-process client needs no scope; `server` starts loopback servers in the caller's
 * scope. Time (token expiry, JWT checks, `date`, delays) comes from the caller's `Clock`, so `TestClock` drives
 * it in-process.
 *
 * @example
 * ```ts
 * import { GithubSimulator } from "@effect-github/testing"
 * import * as HttpClient from "@effect/platform/HttpClient"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const sim = yield* GithubSimulator.make({ installations: [{ account: "acme", repositories: ["web"] }] })
 *   const response = yield* HttpClient.get(`${sim.baseUrl}/rate_limit`).pipe(Effect.provide(sim.layer))
 *   return response.status // 200
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Simulator, never, Scope.Scope> =>
  Effect.gen(function*() {
    const keys = options.privateKey === undefined
      ? yield* Effect.promise(generatedKeyPair)
      : keyPairOf(Redacted.isRedacted(options.privateKey) ? Redacted.value(options.privateKey) : options.privateKey)
    const publicKey = yield* Effect.promise(() => importSPKI(keys.publicKey, "RS256"))
    const world = yield* Effect.sync(() =>
      State.makeWorld({
        appId: options.appId ?? 1,
        clientId: options.clientId,
        slug: options.slug ?? "effect-github-simulator",
        name: options.name ?? "effect-github simulator",
        owner: options.owner ?? "octo-org",
        permissions: options.permissions ?? DEFAULT_PERMISSIONS,
        events: options.events ?? ["check_run", "issues", "pull_request", "push"],
        installations: options.installations ?? [],
        installationCount: options.installationCount ?? 3,
        repositoriesPerInstallation: options.repositoriesPerInstallation ?? 2
      })
    )
    const prefix = (options.pathPrefix ?? "").replace(/\/+$/, "")
    const normalizedPrefix = prefix === "" || prefix.startsWith("/") ? prefix : `/${prefix}`
    const baseUrl = `${(options.origin ?? "https://api.github.test").replace(/\/+$/, "")}${normalizedPrefix}`
    const webhookSecret = options.webhook?.secret
    const hooks = Hooks.makeHooks({
      world,
      hookId: 100_000 + world.app.id,
      config: {
        url: options.webhook?.url,
        secret: Redacted.isRedacted(webhookSecret) ? Redacted.value(webhookSecret) : webhookSecret,
        contentType: options.webhook?.contentType ?? "json",
        insecureSsl: "0"
      },
      apiUrl: () => baseUrl,
      timeoutMs: 10_000
    })
    // Redeliveries asked for with POST /app/hook/deliveries/{id}/attempts are sent by this fiber, one at a time.
    yield* Effect.forkScoped(hooks.drain)
    const core = makeCore({
      world,
      publicKey,
      prefix: normalizedPrefix,
      skewMs: options.skew === undefined ? 0 : skewMillis(options.skew),
      tokenLifetimeMs: Duration.toMillis(Duration.decode(options.tokenLifetime ?? "1 hour")),
      appRateLimit: options.rateLimit?.app ?? 5000,
      installationRateLimit: options.rateLimit?.installation ?? 5000,
      rateLimitWindowMs: Duration.toMillis(Duration.decode(options.rateLimit?.window ?? "1 hour")),
      record: options.recordRequests ?? true,
      extraRoutes: hooks.routes
    })
    // A closed simulator answers nothing: requests made after its scope closed fail like a refused connection.
    yield* Effect.addFinalizer(() => Effect.sync(core.close))

    const client = HttpClient.make((request, url) =>
      Effect.flatMap(requestBody(request), (body) =>
        Effect.flatMap(
          core.handle({ method: request.method, url, headers: request.headers, body }),
          (reply): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
            reply._tag === "Reset"
              ? Effect.fail(
                new HttpClientError.RequestError({
                  request,
                  reason: "Transport",
                  // the code Node's sockets give, so clients classify it as they would over the network
                  cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
                  description: "connection reset by the simulator (ECONNRESET, or the simulator's scope is closed)"
                })
              )
              : Effect.succeed(HttpClientResponse.fromWeb(
                request,
                new Response(reply.status === 204 || reply.status === 304 ? null : reply.body, {
                  status: reply.status,
                  headers: reply.headers
                })
              ))
        ))
    )

    const serve = (serveOptions?: { readonly port?: number | undefined; readonly host?: string | undefined }) =>
      Effect.gen(function*() {
        const host = serveOptions?.host ?? "127.0.0.1"
        let nodeServer: Http.Server | undefined
        const server = yield* NodeHttpServer.make(() => nodeServer = Http.createServer(), {
          port: serveOptions?.port ?? 0,
          host
        }).pipe(Effect.orDie)
        // Runs before the server's own close: drop keep-alive and stalled (delayed) connections so close is prompt.
        yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer?.closeAllConnections()))
        const handler = Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const headers = request.headers
          const hasBody = headers["content-length"] !== undefined && headers["content-length"] !== "0" ||
            headers["transfer-encoding"] !== undefined
          const body = hasBody ? yield* Effect.orElseSucceed(request.text, () => "") : ""
          const url = new URL(request.url, `http://${headers.host ?? `${host}:0`}`)
          const reply: CoreReply = yield* core.handle({ method: request.method, url, headers, body } as CoreRequest)
          if (reply._tag === "Reset") {
            NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
            return yield* Effect.interrupt
          }
          const { "content-type": contentType, ...rest } = reply.headers
          return reply.status === 204
            ? HttpServerResponse.empty({ status: 204, headers: rest })
            : HttpServerResponse.text(reply.body, { status: reply.status, headers: rest, contentType })
        })
        // No spans per request: the simulator is a test double, and benchmarks push 100k requests through it.
        yield* server.serve(HttpRouter.empty.pipe(HttpRouter.all("*", handler))).pipe(Effect.withTracerEnabled(false))
        const address = server.address
        const port = address._tag === "TcpAddress" ? address.port : 0
        return { url: `http://${host}:${port}${normalizedPrefix}`, port }
      })

    const issued = (now: number) =>
      core.tokens().filter((record) => !record.revoked && now + core.skew() < record.expiresAtMs)

    const simulator: Simulator = {
      app: {
        id: world.app.id,
        clientId: world.app.clientId,
        slug: world.app.slug,
        name: world.app.name,
        owner: world.app.owner.login,
        privateKey: Redacted.make(keys.privateKey),
        publicKey: keys.publicKey
      },
      installations: world.installations,
      baseUrl,
      pathPrefix: normalizedPrefix,
      client,
      layer: Layer.succeed(HttpClient.HttpClient, client),
      server: serve(),
      serve,
      fault: (route, fault, faultOptions) =>
        Effect.sync(() =>
          core.addFault(route, Array.isArray(fault) ? fault : [fault as Fault], faultOptions?.times ?? 1)
        ),
      clearFaults: Effect.sync(core.clearFaults),
      setSkew: (skew) => Effect.sync(() => core.setSkew(skewMillis(skew))),
      setSuspended: (installationId, suspended) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          core.setSuspended(installationId, suspended, now)
            ? hooks.config.url === undefined
              ? Effect.void
              : Effect.asVoid(hooks.installationEvent(suspended ? "suspend" : "unsuspend", world.byId(installationId)!))
            : Effect.dieMessage(`GithubSimulator: no installation ${installationId}`)),
      requests: Effect.sync(core.records),
      count: (route) => Effect.sync(() => core.count(route)),
      resetRequests: Effect.sync(core.resetRequests),
      tokens: Effect.sync(() => core.tokens().map((record) => toIssuedToken(record))),
      activeTokens: Effect.map(
        Clock.currentTimeMillis,
        (now) => issued(now).map((record) => toIssuedToken(record))
      ),
      deliver: hooks.deliver,
      replay: hooks.redeliver,
      deliveries: Effect.sync(hooks.deliveries),
      setWebhook: (webhook) =>
        Effect.sync(() => {
          if (webhook.url !== undefined) hooks.config.url = webhook.url
          if (webhook.secret !== undefined) {
            hooks.config.secret = Redacted.isRedacted(webhook.secret) ? Redacted.value(webhook.secret) : webhook.secret
          }
          if (webhook.contentType !== undefined) hooks.config.contentType = webhook.contentType
        }),
      installationEvent: (installationId, action) => {
        const installation = world.byId(installationId)
        return installation === undefined
          ? Effect.dieMessage(`GithubSimulator: no installation ${installationId}`)
          : hooks.installationEvent(action, installation)
      },
      repositoriesEvent: (installationId, action, names) => {
        const installation = world.byId(installationId)
        if (installation === undefined) return Effect.dieMessage(`GithubSimulator: no installation ${installationId}`)
        const wanted = new Set(names.map((name) => name.toLowerCase()))
        const repositories = installation.repositories.filter((repository) => wanted.has(repository.name.toLowerCase()))
        return hooks.repositoriesEvent(action, installation, repositories)
      },
      comments: Effect.sync(hooks.comments)
    }
    return simulator
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<GithubSimulator> => Layer.scoped(GithubSimulator, make(options))

/**
 * The in-process `HttpClient` of the `GithubSimulator` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient, never, GithubSimulator> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(GithubSimulator, (simulator) => simulator.client)
)
