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
import { GithubNotFound, InvalidArgument, type JwtError, type PrivateKeyError } from "./GithubError.js"
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
 * @since 0.1.0
 * @category models
 */
export interface EachInstallationOptions extends GetInstallationsOptions {
  /** How many installations get their token at once; default 4 (a positive integer). */
  readonly concurrency?: number | undefined
  /** The scope of each installation's token; default all the installation's permissions and repositories. */
  readonly scope?: InstallationTokens.TokenScope | undefined
}

/**
 * An installation with a token to act as it (from the token cache) and a requester that uses it.
 *
 * @since 0.1.0
 * @category models
 */
export interface InstallationSession {
  readonly installation: Installation
  readonly token: InstallationAuthorization
  /** Raw requests acting as the installation, with the same token scope. */
  readonly requester: HttpRequester.Service
}

/**
 * A repository and the installation through which the app reaches it.
 *
 * @since 0.1.0
 * @category models
 */
export interface InstallationRepository {
  readonly installation: Installation
  readonly repository: Repository
  /** Raw requests acting as the installation, with the same token scope. */
  readonly requester: HttpRequester.Service
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
  /**
   * Every installation that is not suspended, each with a token from the cache (octokit's `eachInstallation`):
   * `concurrency` tokens are fetched at once, installations keep GitHub's order. Suspended installations are
   * skipped (GitHub mints no token for them); `getInstallations` lists every one.
   */
  readonly eachInstallation: (
    options?: EachInstallationOptions
  ) => Stream.Stream<InstallationSession, RequestError>
  /**
   * Every repository of every installation that is not suspended (octokit's `eachRepository`), each listed with
   * the installation's own token (`GET /installation/repositories`), `concurrency` installations at a time.
   */
  readonly eachRepository: (
    options?: EachInstallationOptions
  ) => Stream.Stream<InstallationRepository, RequestError>
  /** Suspends an installation (`PUT /app/installations/{id}/suspended`): it can no longer get tokens. */
  readonly suspendInstallation: (installationId: number) => Effect.Effect<void, RequestError>
  /** Lifts a suspension (`DELETE /app/installations/{id}/suspended`). */
  readonly unsuspendInstallation: (installationId: number) => Effect.Effect<void, RequestError>
  /** Uninstalls the app from that account (`DELETE /app/installations/{id}`); its cached token is dropped. */
  readonly deleteInstallation: (installationId: number) => Effect.Effect<void, RequestError>
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
      getJson("/app/installations/{installation_id}", { installation_id: id }, Installation).pipe(
        naming(`installation ${id}`)
      )

    const accessToken = (id: number, scope?: InstallationTokens.TokenScope) =>
      tokens.get(id, scope).pipe(naming(`installation ${id}`))

    const byId = (method: "PUT" | "DELETE", path: string) => (installationId: number) =>
      Effect.flatMap(
        Validate.id("installationId", installationId),
        (id) =>
          requester.requestJson({ method, path, params: { installation_id: id } }).pipe(
            naming(`installation ${id}`),
            Effect.asVoid
          )
      )

    const makeRef = (id: number, prefetched: Option.Option<Installation>): Effect.Effect<InstallationRef> =>
      Effect.map(
        Option.match(prefetched, {
          onNone: () => memoizeSuccess(fetchInstallation(id)),
          onSome: (installation) => Effect.succeed(Effect.succeed(installation))
        }),
        (get) => ({
          id,
          get,
          accessToken: (scope) => accessToken(id, scope),
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

    const byName = <P extends Record<string, string>>(
      path: string,
      checks: Effect.Effect<P, InvalidArgument>,
      subject: (params: P) => string
    ) => Effect.flatMap(checks, (params) => getJson(path, params, Installation).pipe(naming(subject(params))))

    const getRepoInstallation: Service["getRepoInstallation"] = (owner, repo) =>
      byName(
        "/repos/{owner}/{repo}/installation",
        Effect.all({ owner: Validate.accountLogin("owner", owner), repo: Validate.repositoryName("repo", repo) }),
        ({ owner, repo }) => `the installation on repository ${owner}/${repo}`
      )

    const getInstallations: Service["getInstallations"] = (options = {}) =>
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
      ))

    const eachInstallation = (options: EachInstallationOptions = {}) =>
      Stream.unwrap(Effect.map(concurrencyOf(options.concurrency), (concurrency) =>
        getInstallations(options).pipe(
          Stream.filter((installation) => installation.suspended_at === null),
          Stream.mapEffect(
            (installation): Effect.Effect<InstallationSession, RequestError> =>
              Effect.map(accessToken(installation.id, options.scope), (token) => ({
                installation,
                token,
                requester: tokens.requester(installation.id, options.scope)
              })),
            { concurrency }
          )
        )))

    const eachRepository: Service["eachRepository"] = (options = {}) =>
      Stream.unwrap(Effect.map(concurrencyOf(options.concurrency), (concurrency) =>
        eachInstallation(options).pipe(
          Stream.flatMap(
            ({ installation, requester }) =>
              requester.paginate(
                { method: "GET", path: "/installation/repositories" },
                Repository,
                { key: "repositories", perPage: options.perPage }
              ).pipe(
                Stream.map((repository): InstallationRepository => ({ installation, repository, requester })),
                naming(`installation ${installation.id}`)
              ),
            { concurrency }
          )
        )))

    const changing = (method: "PUT" | "DELETE", path: string) => (installationId: number) =>
      Effect.tap(byId(method, path)(installationId), () => tokens.invalidate(installationId))

    const build = (lazy: boolean): Service => ({
      lazy,
      createJwt: (expiration) => auth.createJwt({ expiration }),
      getAccessToken: (installationId, scope) =>
        Effect.flatMap(Validate.id("installationId", installationId), (id) => accessToken(id, scope)),
      getInstallations,
      eachInstallation,
      eachRepository,
      // Each changes what GitHub answers a mint: the cached token, or a remembered refusal (a 403 for a suspended
      // installation is remembered for failedMintWindow), must not outlive the change.
      suspendInstallation: changing("PUT", "/app/installations/{installation_id}/suspended"),
      unsuspendInstallation: changing("DELETE", "/app/installations/{installation_id}/suspended"),
      deleteInstallation: changing("DELETE", "/app/installations/{installation_id}"),
      getAppInstallation: (installationId) =>
        Effect.flatMap(Validate.id("installationId", installationId), (id) =>
          lazy
            ? makeRef(id, Option.none())
            : Effect.flatMap(fetchInstallation(id), (fetched) => makeRef(id, Option.some(fetched)))),
      getOrgInstallation: (org) =>
        byName(
          "/orgs/{org}/installation",
          Effect.all({ org: Validate.accountLogin("org", org) }),
          ({ org }) => `the installation on organization ${org}`
        ),
      getRepoInstallation,
      getUserInstallation: (username) =>
        byName(
          "/users/{username}/installation",
          Effect.all({ username: Validate.accountLogin("username", username) }),
          ({ username }) => `the installation on user ${username}`
        ),
      getEnterpriseInstallation: (enterprise) =>
        byName(
          "/enterprises/{enterprise}/installation",
          Effect.all({ enterprise: Validate.enterpriseSlug("enterprise", enterprise) }),
          ({ enterprise }) => `the installation on enterprise ${enterprise}`
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
 * Names what was not found on a 404 (`installation 42`), keeping every field GitHub's answer gave. For effects
 * and streams alike.
 */
const naming =
  (subject: string) => <T extends Effect.Effect<any, any, any> | Stream.Stream<any, any, any>>(self: T): T => {
    const rename = (error: unknown) =>
      error instanceof GithubNotFound && error.subject === undefined
        ? new GithubNotFound({ ...notFoundFields(error), subject })
        : error
    return (Effect.isEffect(self)
      ? Effect.mapError(self as Effect.Effect<unknown, unknown, unknown>, rename)
      : Stream.mapError(self as Stream.Stream<unknown, unknown, unknown>, rename)) as T
  }

const notFoundFields = (error: GithubNotFound): ConstructorParameters<typeof GithubNotFound>[0] => {
  const { documentationUrl, githubMessage, hint, method, requestId, route, status } = error
  return { documentationUrl, githubMessage, hint, method, requestId, route, status }
}

const concurrencyOf = (value: unknown): Effect.Effect<number, InvalidArgument> =>
  value === undefined
    ? Effect.succeed(4)
    : typeof value === "number" && Number.isSafeInteger(value) && value > 0
    ? Effect.succeed(value)
    : Effect.fail(
      new InvalidArgument({
        argument: "concurrency",
        description: `expected a positive integer, got ${typeof value === "number" ? value : typeof value}`
      })
    )

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
