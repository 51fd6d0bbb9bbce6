/**
 * A Node HTTP server for the webhook receiver: `Webhooks.httpApp` on a port, stopped when the scope closes.
 *
 * @example
 * ```ts
 * import { NodeWebhooks } from "@effect-github/node"
 * import { Webhooks } from "@effect-github/webhooks"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const program = Effect.gen(function*() {
 *   const webhooks = yield* Webhooks.Webhooks
 *   yield* webhooks.on("issues.opened", (event) => Effect.log(event.payload.issue.title))
 *   const server = yield* NodeWebhooks.serve({ port: 3000 })
 *   yield* Effect.log(`listening on ${server.url}`)
 *   return yield* Effect.never
 * }).pipe(Effect.scoped, Effect.provide(Webhooks.layer({ secret: Redacted.make("webhook secret") })))
 * ```
 *
 * @since 0.1.0
 */
import * as Webhooks from "@effect-github/webhooks/Webhooks"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

/**
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions {
  /** Default 0: a free port. */
  readonly port?: number | undefined
  /** Default `127.0.0.1`; `0.0.0.0` to take deliveries from other hosts. */
  readonly host?: string | undefined
  /** The path deliveries are posted to; default `/`. */
  readonly path?: `/${string}` | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ServerInfo {
  /** `http://host:port/path`: the URL to set as the app's webhook URL. */
  readonly url: string
  readonly port: number
}

/**
 * Serves the `Webhooks` receiver in context until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  options?: ServeOptions
): Effect.Effect<ServerInfo, HttpServerError.ServeError, Webhooks.Webhooks | Scope.Scope> =>
  Effect.gen(function*() {
    const webhooks = yield* Webhooks.Webhooks
    const host = options?.host ?? "127.0.0.1"
    const path = options?.path ?? "/"
    let nodeServer: Http.Server | undefined
    const server = yield* NodeHttpServer.make(() => nodeServer = Http.createServer(), {
      port: options?.port ?? 0,
      host
    })
    // Idle keep-alive connections would hold the close up; requests in flight are answered first.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer?.closeIdleConnections()))
    yield* server.serve(webhooks.router(path))
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    return { url: `http://${host}:${port}${path}`, port }
  })
