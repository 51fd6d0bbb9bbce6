/**
 * The `HttpClient` for Node: one undici connection pool per layer (size, TLS verification or a CA bundle,
 * HTTP(S) proxies), closed with the layer's scope.
 *
 * @since 0.1.0
 */
import { InvalidArgument } from "@effect-github/app/GithubError"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { readFile } from "node:fs/promises"
import * as UndiciClient from "./internal/undiciClient.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Connections per origin; default 10. */
  readonly poolSize?: number | undefined
  /**
   * TLS verification: `true` (default) against Node's CA store, `false` to accept any certificate (testing
   * only), or the path of a PEM CA bundle (e.g. a GitHub Enterprise Server's internal CA), read when the layer
   * is built.
   */
  readonly verify?: boolean | string | undefined
  /**
   * `undefined` (default): `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from the environment; a URL: that proxy
   * for every request (hosts in `noProxy` / `NO_PROXY` excepted); `false`: never a proxy.
   */
  readonly proxy?: string | false | undefined
  /**
   * Hosts reached without the proxy, as in `NO_PROXY`; default the `NO_PROXY` environment variable. The
   * environment is read once, when the layer is built.
   */
  readonly noProxy?: string | undefined
  /**
   * Default true: sends `Accept-Encoding: gzip, br` and decodes such bodies (GitHub's JSON compresses about
   * tenfold; a proxy's gzip decodes too). `false` asks for identity bodies.
   */
  readonly compression?: boolean | undefined
  /**
   * The largest response body accepted, in bytes, before or after decoding; default 100 MB (far above any REST
   * answer of GitHub's). A larger one fails as a transport error instead of exhausting memory.
   */
  readonly maxBodyBytes?: number | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultPoolSize = 10

/**
 * @since 0.2.0
 * @category constants
 */
export const defaultMaxBodyBytes = 100 * 1024 * 1024

const invalid = (argument: string, description: string) => new InvalidArgument({ argument, description })

const readCa = (path: string): Effect.Effect<string, InvalidArgument> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (cause) =>
      invalid(
        "verify",
        `cannot read the CA bundle ${JSON.stringify(path)} (${
          (cause as { code?: string }).code ?? String(cause)
        }): give the path of a readable PEM file`
      )
  }).pipe(
    Effect.filterOrFail(
      (pem) => pem.includes("-----BEGIN CERTIFICATE-----"),
      () => invalid("verify", `${JSON.stringify(path)} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`)
    )
  )

const proxyFromEnv = (): boolean =>
  ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"].some((name) => (process.env[name] ?? "") !== "")

/**
 * The undici dispatcher for these options, destroyed (every connection closed) when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDispatcher = (
  options: Options = {}
): Effect.Effect<Undici.Dispatcher, InvalidArgument, Scope.Scope> =>
  Effect.gen(function*() {
    const poolSize = options.poolSize ?? defaultPoolSize
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      return yield* invalid("poolSize", `must be a whole number of connections, 1 or more, got ${poolSize}`)
    }
    const verify = options.verify ?? true
    if (typeof verify === "string" && verify.trim() === "") {
      return yield* invalid("verify", "must be true, false, or the path of a CA bundle")
    }
    const proxy = options.proxy
    if (typeof proxy === "string") {
      let url: URL | undefined
      try {
        url = new URL(proxy)
      } catch {
        url = undefined
      }
      if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
        return yield* invalid("proxy", "must be an http:// or https:// URL, or false")
      }
    }
    const ca = typeof verify === "string" ? yield* readCa(verify) : undefined
    const tls = { rejectUnauthorized: verify !== false, ...(ca === undefined ? {} : { ca }) }
    const agentOptions = { connections: poolSize, connect: tls }
    return yield* Effect.acquireRelease(
      Effect.sync((): Undici.Dispatcher =>
        // a plain Agent when no proxy can apply: EnvHttpProxyAgent parses every request's origin
        proxy === false || (proxy === undefined && !proxyFromEnv())
          ? new Undici.Agent(agentOptions)
          : new Undici.EnvHttpProxyAgent({
            ...agentOptions,
            // TLS to the target through a tunnel is `requestTls`; `connect` is for the direct agent
            requestTls: tls,
            ...(typeof proxy === "string" ? { httpProxy: proxy, httpsProxy: proxy } : {}),
            // fixed at build, as the proxy is (undici would otherwise re-read NO_PROXY on every request)
            noProxy: options.noProxy ?? process.env.no_proxy ?? process.env.NO_PROXY ?? ""
          })
      ),
      (dispatcher) => Effect.promise(() => dispatcher.destroy())
    )
  })

/**
 * The dispatcher as `@effect/platform-node`'s `NodeHttpClient.Dispatcher`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDispatcher = (options?: Options): Layer.Layer<NodeHttpClient.Dispatcher, InvalidArgument> =>
  Layer.scoped(NodeHttpClient.Dispatcher, makeDispatcher(options))

/**
 * An `HttpClient` on its own undici pool. Redirects are not followed here (the requester follows them, and
 * only same-origin ones with credentials); closing the layer's scope closes every connection.
 *
 * @example
 * ```ts
 * import { HttpRequester } from "@effect-github/app"
 * import { NodeHttpTransport } from "@effect-github/node"
 * import { Layer } from "effect"
 *
 * const GithubLive = HttpRequester.layer({ baseUrl: "github.example.com" }).pipe(
 *   Layer.provide(NodeHttpTransport.layer({ poolSize: 20, verify: "/etc/ssl/ghes-ca.pem" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<HttpClient.HttpClient, InvalidArgument> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const maxBodyBytes = options?.maxBodyBytes ?? defaultMaxBodyBytes
      if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
        return yield* invalid("maxBodyBytes", `must be a whole number of bytes, 1 or more, got ${maxBodyBytes}`)
      }
      const compression = options?.compression ?? true
      if (typeof compression !== "boolean") return yield* invalid("compression", "must be true or false")
      const dispatcher = yield* makeDispatcher(options)
      return UndiciClient.make(dispatcher, { compression, maxBodyBytes })
    })
  )
