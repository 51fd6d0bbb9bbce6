/**
 * The service a GitHub App meets first: everything PyGithub's `GithubIntegration` does, as typed effects.
 *
 * @example
 * ```ts
 * import { Integration } from "@effect-github/app"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const github = yield* Integration.Integration
 *   const installation = yield* github.getRepoInstallation("octo-org", "octo-repo")
 *   const token = yield* github.getAccessToken(installation.id, { permissions: { contents: "read" } })
 *   const all = yield* Stream.runCount(github.getInstallations())
 *   return { token, all }
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as AppAuth from "./AppAuth.js"
import { GithubApp } from "./GithubApp.js"
import type { InvalidArgument, JwtError, PrivateKeyError } from "./GithubError.js"
import * as HttpRequester from "./HttpRequester.js"
import { Installation } from "./Installation.js"
import type { InstallationAuthorization } from "./InstallationAuthorization.js"
import * as InstallationTokens from "./InstallationTokens.js"
import * as Credentials from "./internal/credentials.js"
import * as Validate from "./internal/validate.js"
import { Repository } from "./Repository.js"

/**
 * @since 0.1.0
 * @category models
 */
export type RequestError = HttpRequester.RequestError

/**
 * @since 0.1.0
 * @category models
 */
export interface GetInstallationsOptions {
  /** Page size, 1..100; default the requester's `perPage`. */
  readonly perPage?: number | undefined
  /** Only installations updated after this time. */
  readonly since?: Date | undefined
  /** GitHub's `outdated` filter. */
  readonly outdated?: string | undefined
}

/**
 * An installation known by id. Nothing is fetched until `get` runs, and then only once however many fibers
 * await it; tokens and requests act as the installation.
 *
 * @since 0.1.0
 * @category models
 */
export interface InstallationRef {
  readonly id: number
  /**
   * The installation (`GET /app/installations/{id}`): one request however many fibers await it, remembered once
   * it succeeds; a failure is not remembered, so the next `get` asks again.
   */
  readonly get: Effect.Effect<Installation, RequestError>
  /** A token for this installation, from the token cache. */
  readonly accessToken: (
    scope?: InstallationTokens.TokenScope
  ) => Effect.Effect<InstallationAuthorization, RequestError>
  /** The repositories the installation (or the narrowed token) can access. */
  readonly repositories: (scope?: InstallationTokens.TokenScope) => Stream.Stream<Repository, RequestError>
  /** Raw requests acting as this installation. */
  readonly requester: (scope?: InstallationTokens.TokenScope) => HttpRequester.Service
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether lookups by id return references without fetching (PyGithub's `lazy`). */
  readonly lazy: boolean
  /** A new app JWT (PyGithub's `create_jwt`). */
  readonly createJwt: (expiration?: Duration.DurationInput) => Effect.Effect<Redacted.Redacted<string>, JwtError>
  /** An installation access token, narrowed to permissions and repositories (PyGithub's `get_access_token`). */
  readonly getAccessToken: (
    installationId: number,
    scope?: InstallationTokens.TokenScope
  ) => Effect.Effect<InstallationAuthorization, RequestError>
  /** Every installation of the app, page by page (`GET /app/installations`). */
  readonly getInstallations: (options?: GetInstallationsOptions) => Stream.Stream<Installation, RequestError>
  /** An installation by id: fetched now, or in lazy mode a reference that fetches when asked. */
  readonly getAppInstallation: (installationId: number) => Effect.Effect<InstallationRef, RequestError>
  readonly getOrgInstallation: (org: string) => Effect.Effect<Installation, RequestError>
  readonly getRepoInstallation: (owner: string, repo: string) => Effect.Effect<Installation, RequestError>
  readonly getUserInstallation: (username: string) => Effect.Effect<Installation, RequestError>
  readonly getEnterpriseInstallation: (enterprise: string) => Effect.Effect<Installation, RequestError>
  /**
   * @deprecated Use `getRepoInstallation`; kept because PyGithub's `get_installation` is this route.
   */
  readonly getInstallation: (owner: string, repo: string) => Effect.Effect<Installation, RequestError>
  /** The app itself (`GET /app`). */
  readonly getApp: () => Effect.Effect<GithubApp, RequestError>
  /** A reference to an installation, with no request. */
  readonly installation: (installationId: number) => Effect.Effect<InstallationRef, InvalidArgument>
  /** The same service in lazy or eager mode; this one is left as it is. */
  readonly withLazy: (lazy: boolean) => Service
  /** Raw requests as the app (Bearer JWT), PyGithub's `requester`. */
  readonly requester: HttpRequester.Service
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Integration extends Context.Tag("@effect-github/app/Integration")<Integration, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Lookups by id return references without fetching; default false. */
  readonly lazy?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<
  Service,
  never,
  AppAuth.AppAuth | HttpRequester.HttpRequester | InstallationTokens.InstallationTokens
> =>
  Effect.gen(function*() {
    const auth = yield* AppAuth.AppAuth
    const tokens = yield* InstallationTokens.InstallationTokens
    const requester = (yield* HttpRequester.HttpRequester).withCredentials(Credentials.app(auth))

    const getJson = <A, I>(path: string, params: Record<string, string | number>, schema: Schema.Schema<A, I>) =>
      requester.request({ method: "GET", path, params }, schema)

    const fetchInstallation = (id: number) =>
      getJson("/app/installations/{installation_id}", { installation_id: id }, Installation)

    const makeRef = (id: number, prefetched: Option.Option<Installation>): Effect.Effect<InstallationRef> =>
      Effect.map(
        Option.match(prefetched, {
          onNone: () => memoizeSuccess(fetchInstallation(id)),
          onSome: (installation) => Effect.succeed(Effect.succeed(installation))
        }),
        (get) => ({
          id,
          get,
          accessToken: (scope) => tokens.get(id, scope),
          repositories: (scope) =>
            tokens.requester(id, scope).paginate(
              { method: "GET", path: "/installation/repositories" },
              Repository,
              { key: "repositories" }
            ),
          requester: (scope) => tokens.requester(id, scope)
        })
      )

    const installation: Service["installation"] = (installationId) =>
      Effect.flatMap(Validate.id("installationId", installationId), (id) => makeRef(id, Option.none()))

    const byName = (path: string, checks: Effect.Effect<Record<string, string>, InvalidArgument>) =>
      Effect.flatMap(checks, (params) => getJson(path, params, Installation))

    const getRepoInstallation: Service["getRepoInstallation"] = (owner, repo) =>
      byName(
        "/repos/{owner}/{repo}/installation",
        Effect.all({ owner: Validate.accountLogin("owner", owner), repo: Validate.repositoryName("repo", repo) })
      )

    const build = (lazy: boolean): Service => ({
      lazy,
      createJwt: (expiration) => auth.createJwt({ expiration }),
      getAccessToken: (installationId, scope) => tokens.get(installationId, scope),
      getInstallations: (options = {}) =>
        Stream.unwrap(Effect.map(
          Effect.all({
            perPage: options.perPage === undefined ? Effect.succeed(undefined) : Validate.perPage(options.perPage),
            since: options.since === undefined ? Effect.succeed(undefined) : Validate.date("since", options.since)
          }),
          ({ perPage, since }) =>
            requester.paginate(
              {
                method: "GET",
                path: "/app/installations",
                query: { since: since?.toISOString(), outdated: options.outdated }
              },
              Installation,
              { perPage }
            )
        )),
      getAppInstallation: (installationId) =>
        Effect.flatMap(Validate.id("installationId", installationId), (id) =>
          lazy
            ? makeRef(id, Option.none())
            : Effect.flatMap(fetchInstallation(id), (fetched) => makeRef(id, Option.some(fetched)))),
      getOrgInstallation: (org) =>
        byName("/orgs/{org}/installation", Effect.all({ org: Validate.accountLogin("org", org) })),
      getRepoInstallation,
      getUserInstallation: (username) =>
        byName("/users/{username}/installation", Effect.all({ username: Validate.accountLogin("username", username) })),
      getEnterpriseInstallation: (enterprise) =>
        byName(
          "/enterprises/{enterprise}/installation",
          Effect.all({ enterprise: Validate.enterpriseSlug("enterprise", enterprise) })
        ),
      getInstallation: getRepoInstallation,
      getApp: () => requester.request({ method: "GET", path: "/app" }, GithubApp),
      installation,
      withLazy: build,
      requester
    })

    return build(options.lazy ?? false)
  })

/**
 * Runs `effect` once for all concurrent callers and remembers its success; a failure is shared by the callers
 * that awaited it but not remembered, so a later call asks again (a 502 must not stick to a lazy reference).
 */
const memoizeSuccess = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<Effect.Effect<A, E>> =>
  Effect.map(
    Effect.cachedInvalidateWithTTL(effect, Duration.infinity),
    ([cached, invalidate]) => Effect.tapError(cached, () => invalidate)
  )

/**
 * Needs `AppAuth`, `HttpRequester` and `InstallationTokens`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<
  Integration,
  never,
  AppAuth.AppAuth | HttpRequester.HttpRequester | InstallationTokens.InstallationTokens
> => Layer.effect(Integration, make(options))

/**
 * Everything one app needs, from its options, on the `HttpClient` in context: `AppAuth`, `HttpRequester`,
 * `InstallationTokens` and `Integration`, each also available to the program.
 *
 * @since 0.1.0
 * @category models
 */
export interface AppOptions extends AppAuth.Options, HttpRequester.Options, Options {
  readonly tokens?: InstallationTokens.Options | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type AppServices =
  | Integration
  | AppAuth.AppAuth
  | HttpRequester.HttpRequester
  | InstallationTokens.InstallationTokens

/**
 * @since 0.1.0
 * @category layers
 */
export const layerApp = (
  options: AppOptions
): Layer.Layer<AppServices, PrivateKeyError | JwtError | InvalidArgument, HttpClient.HttpClient> => {
  const { lazy, tokens, ...rest } = options
  return layer({ lazy }).pipe(
    Layer.provideMerge(InstallationTokens.layer(tokens)),
    Layer.provideMerge(Layer.merge(AppAuth.layer(rest), HttpRequester.layer(rest)))
  )
}

/**
 * Like `layerApp`, with the app's credentials from the environment (`GITHUB_APP_ID` or `GITHUB_APP_CLIENT_ID`,
 * `GITHUB_APP_PRIVATE_KEY` or `GITHUB_APP_PRIVATE_KEY_FILE`) and `GITHUB_API_URL` (GitHub Enterprise Server)
 * as the base URL when the options give none.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Partial<AppOptions> = {}
): Layer.Layer<
  AppServices,
  PrivateKeyError | JwtError | InvalidArgument | ConfigError.ConfigError,
  HttpClient.HttpClient | FileSystem.FileSystem
> => {
  const { lazy, tokens, ...rest } = options
  const requester = Layer.unwrapEffect(
    Effect.map(
      Config.option(Config.nonEmptyString("GITHUB_API_URL")),
      (url) => HttpRequester.layer({ ...rest, baseUrl: rest.baseUrl ?? Option.getOrUndefined(url) })
    )
  )
  return layer({ lazy }).pipe(
    Layer.provideMerge(InstallationTokens.layer(tokens)),
    Layer.provideMerge(Layer.merge(AppAuth.layerConfig(rest), requester))
  )
}
