/// <reference lib="esnext.disposable" />
/**
 * The Integration for callers outside Effect (handlers, scripts, other frameworks): Promises and async iterables
 * over one `ManagedRuntime`, rejecting with the library's own tagged errors; a cached token is answered without
 * starting a fiber.
 *
 * @example
 * ```ts
 * import { IntegrationClient, Integration } from "@effect-github/app"
 * import { GithubSimulator } from "@effect-github/testing"
 * import { Effect, Layer, Scope } from "effect"
 *
 * // the simulator lives in a scope of its own; a real app passes NodeIntegration's layer instead
 * const scope = Effect.runSync(Scope.make())
 * const sim = await Effect.runPromise(Scope.extend(GithubSimulator.make(), scope))
 * await using github = IntegrationClient.make(
 *   Integration.layerApp({ appId: sim.app.id, privateKey: sim.app.privateKey, baseUrl: sim.baseUrl }).pipe(
 *     Layer.provide(sim.layer)
 *   )
 * )
 * const token = await github.getAccessToken(1)
 * for await (const installation of github.getInstallations()) console.log(installation.id)
 * ```
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import type { GithubApp } from "./GithubApp.js"
import type * as HttpRequester from "./HttpRequester.js"
import type { Installation } from "./Installation.js"
import type { InstallationAuthorization } from "./InstallationAuthorization.js"
import * as InstallationTokens from "./InstallationTokens.js"
import * as Integration from "./Integration.js"
import * as Sync from "./internal/tokensSync.js"
import type { Repository } from "./Repository.js"

/**
 * An installation known by id, as `Integration.InstallationRef` is: nothing is fetched until asked.
 *
 * @since 0.2.0
 * @category models
 */
export interface InstallationClient {
  readonly id: number
  /** `GET /app/installations/{id}`, once however many await it. */
  readonly get: () => Promise<Installation>
  readonly accessToken: (scope?: InstallationTokens.TokenScope) => Promise<InstallationAuthorization>
  readonly repositories: (scope?: InstallationTokens.TokenScope) => AsyncIterable<Repository>
  /** A raw request acting as the installation. */
  readonly request: (
    request: HttpRequester.Request,
    scope?: InstallationTokens.TokenScope
  ) => Promise<HttpRequester.RawResponse>
}

/**
 * @since 0.2.0
 * @category models
 */
export interface IntegrationClient extends AsyncDisposable {
  readonly getApp: () => Promise<GithubApp>
  readonly getInstallations: (options?: Integration.GetInstallationsOptions) => AsyncIterable<Installation>
  /** A token from the cache (answered synchronously inside when fresh), or minted once for all callers. */
  readonly getAccessToken: (
    installationId: number,
    scope?: InstallationTokens.TokenScope
  ) => Promise<InstallationAuthorization>
  readonly installation: (installationId: number) => InstallationClient
  /** A raw request as the app (Bearer JWT). */
  readonly request: (request: HttpRequester.Request) => Promise<HttpRequester.RawResponse>
  /** Runs any Effect program against the same services. */
  readonly runtime: ManagedRuntime.ManagedRuntime<
    Integration.Integration | InstallationTokens.InstallationTokens,
    unknown
  >
  /** Closes connections, stops background refresh, revokes scoped tokens. */
  readonly dispose: () => Promise<void>
}

/** The error a failed Exit stands for: the library's error itself, not a FiberFailure wrapping it. */
const errorOf = (cause: Cause.Cause<unknown>): unknown => {
  const failure = Cause.failureOption(cause)
  return failure._tag === "Some" ? failure.value : Cause.squash(cause)
}

const unwrap = (error: unknown): unknown =>
  Runtime.isFiberFailure(error) ? errorOf(error[Runtime.FiberFailureCauseId]) : error

/**
 * A client over the layer's services, built on the first call (a layer that fails to build rejects every call
 * with its error). One runtime for the client's lifetime: `dispose()` or `await using` closes it.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = <E>(
  layer: Layer.Layer<Integration.Integration | InstallationTokens.InstallationTokens, E>
): IntegrationClient => {
  const runtime = ManagedRuntime.make(layer)

  const run = <A>(effect: Effect.Effect<A, unknown, Integration.Integration | InstallationTokens.InstallationTokens>) =>
    runtime.runPromiseExit(effect).then((exit) =>
      Exit.isSuccess(exit) ? exit.value : Promise.reject(errorOf(exit.cause))
    )

  const iterate = <A>(
    stream: Stream.Stream<A, unknown, Integration.Integration | InstallationTokens.InstallationTokens>
  ): AsyncIterable<A> => ({
    [Symbol.asyncIterator]: () => {
      let inner: AsyncIterator<A> | undefined
      const open = async () =>
        inner ??= Stream.toAsyncIterableRuntime(stream, await runtime.runtime())[Symbol.asyncIterator]()
      return {
        next: () => open().then((it) => it.next()).catch((error) => Promise.reject(unwrap(error))),
        return: (value?: unknown) =>
          inner?.return !== undefined
            ? inner.return(value).catch((error) => Promise.reject(unwrap(error)))
            : Promise.resolve({ done: true, value: value as A })
      }
    }
  })

  // The synchronous hit path, once the services are built: the cache's reader and the layer's clock.
  let fast: { readonly read: Sync.UnsafeGet; readonly clock: Clock.Clock } | undefined
  const ready = run(
    Effect.all({ tokens: InstallationTokens.InstallationTokens, clock: Effect.clock })
  ).then(({ clock, tokens }) => {
    const read = Sync.unsafeGet(tokens)
    if (read !== undefined) fast = { read, clock }
  }, () => {
    // a layer that cannot be built: each call rejects with its error
  })
  void ready

  const withIntegration = <A>(
    f: (github: Integration.Service) => Effect.Effect<A, unknown>
  ): Promise<A> => run(Effect.flatMap(Integration.Integration, f))

  const getAccessToken: IntegrationClient["getAccessToken"] = (installationId, scope) => {
    if (fast !== undefined) {
      const hit = fast.read(installationId, scope, fast.clock.unsafeCurrentTimeMillis())
      if (hit !== undefined) return Promise.resolve(hit)
    }
    return withIntegration((github) => github.getAccessToken(installationId, scope))
  }

  const installation = (installationId: number): InstallationClient => {
    const ref = withIntegration((github) => github.installation(installationId))
    // the reference is made once (its `get` is memoized); an invalid id rejects each call
    ref.catch(() => {})
    const withRef = <A>(f: (ref: Integration.InstallationRef) => Effect.Effect<A, unknown>) =>
      ref.then((r) => run(f(r)))
    return {
      id: installationId,
      get: () => withRef((r) => r.get),
      accessToken: (scope) => getAccessToken(installationId, scope),
      repositories: (scope) =>
        iterate(
          Stream.unwrap(Effect.map(Integration.Integration, (github) =>
            Stream.unwrap(Effect.map(github.installation(installationId), (r) =>
              r.repositories(scope)))))
        ),
      request: (request, scope) => withRef((r) => r.requester(scope).requestJson(request))
    }
  }

  const dispose = () => runtime.dispose()

  return {
    getApp: () => withIntegration((github) => github.getApp()),
    getInstallations: (options) =>
      iterate(Stream.unwrap(Effect.map(Integration.Integration, (github) => github.getInstallations(options)))),
    getAccessToken,
    installation,
    request: (request) => withIntegration((github) => github.requester.requestJson(request)),
    runtime: runtime as IntegrationClient["runtime"],
    dispose,
    [Symbol.asyncDispose]: dispose
  }
}
