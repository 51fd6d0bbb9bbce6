/**
 * `github-app demo`: the tour a new user wants, against an embedded GitHub simulator served on 127.0.0.1 and
 * reached with real HTTP through `NodeIntegration`, as a program would reach GitHub. Tokens shown are masked.
 *
 * @since 0.1.0
 */
import * as Account from "@effect-github/app/Account"
import type * as GithubError from "@effect-github/app/GithubError"
import * as HttpRequester from "@effect-github/app/HttpRequester"
import * as InstallationTokens from "@effect-github/app/InstallationTokens"
import * as Integration from "@effect-github/app/Integration"
import * as NodeIntegration from "@effect-github/node/NodeIntegration"
import * as Fault from "@effect-github/testing/Fault"
import * as GithubSimulator from "@effect-github/testing/GithubSimulator"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Format from "./internal/format.js"
import { Stdio } from "./Stdio.js"

const perPage = 3

const installations: ReadonlyArray<GithubSimulator.InstallationSpec> = [
  { account: "octo-org", repositories: ["api", "web", "docs"] },
  { account: "octocat", type: "User", repositories: ["dotfiles"] },
  { account: "octo-enterprise", type: "Enterprise", repositories: 1 }
]

const mintRoute = "POST /app/installations/{installation_id}/access_tokens"

const seconds = (millis: number) => `${(millis / 1000).toFixed(1)} s`

/** Runs `effect`, returning its value, how long it took and the library's log lines meanwhile (debug included). */
const observed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make(({ logLevel, message }) => {
      const parts = Array.isArray(message) ? message : [message]
      lines.push(`${logLevel.label}: ${parts.map(String).join(" ")}`)
    })
    const start = yield* Clock.currentTimeMillis
    const value = yield* effect.pipe(
      Effect.locally(FiberRef.currentLoggers, HashSet.make(capture)),
      Logger.withMinimumLogLevel(LogLevel.Debug)
    )
    const elapsed = (yield* Clock.currentTimeMillis) - start
    return { value, elapsed, lines }
  })

/**
 * The tour: the app, its installations page by page, lookups, a narrowed token and its repositories, the cache,
 * a 502 and a secondary rate limit survived, a revoke. Fails only if the library misbehaves.
 *
 * @since 0.1.0
 * @category running
 */
export const run: Effect.Effect<
  void,
  HttpRequester.RequestError | GithubError.PrivateKeyError,
  Stdio
> = Effect.scoped(Effect.gen(function*() {
  const started = yield* Clock.currentTimeMillis
  const { color } = yield* Stdio
  const bold = (text: string) => color ? `\x1b[1m${text}\x1b[22m` : text
  const dim = (text: string) => color ? `\x1b[2m${text}\x1b[22m` : text
  const ok = (text: string) => color ? `\x1b[32m${text}\x1b[39m` : text
  let step = 0
  const heading = (title: string) => Console.log(`\n${bold(`${++step}. ${title}`)}`)
  const say = (...lines: ReadonlyArray<string>) => Console.log(lines.map((line) => `   ${line}`).join("\n"))

  const sim = yield* GithubSimulator.make({ installations, installationCount: 5 })
  const { url } = yield* sim.server
  yield* Console.log(bold("github-app demo: @effect-github against an embedded GitHub simulator"))
  yield* say(
    dim(`simulator  ${url}  (app ${sim.app.id}, ${sim.installations.length} installations, an RSA key made now)`),
    dim(`client     NodeIntegration.layer({ appId, privateKey, baseUrl, perPage: ${perPage} }): real HTTP, undici`)
  )

  const context = yield* Layer.build(
    NodeIntegration.layer({
      appId: sim.app.id,
      privateKey: sim.app.privateKey,
      baseUrl: url,
      perPage,
      // loopback: a proxy from the environment must not be used
      proxy: false
    })
  )
  const github = Context.get(context, Integration.Integration)
  const tokens = Context.get(context, InstallationTokens.InstallationTokens)
  const requester = Context.get(context, HttpRequester.HttpRequester)

  yield* heading("The app (GET /app, as the app: a JWT signed with its private key)")
  yield* say(...Format.appLines(yield* github.getApp()))

  yield* heading(`Its installations, streamed page by page (GET /app/installations, ${perPage} per page)`)
  const all = Chunk.toReadonlyArray(yield* Stream.runCollect(github.getInstallations()))
  const pages = yield* sim.count("GET /app/installations")
  yield* say(
    ...Format.table(
      ["ID", "ACCOUNT", "TYPE", "REPOSITORIES"],
      all.map((i) => [
        String(i.id),
        i.account === null ? "" : Account.name(i.account),
        i.target_type,
        i.repository_selection
      ])
    ),
    ok(`${all.length} installations in ${pages} pages (the stream followed GitHub's Link: rel="next" headers)`)
  )

  yield* heading("Finding an installation by organization, repository and user")
  const byOrg = yield* github.getOrgInstallation("octo-org")
  const byRepo = yield* github.getRepoInstallation("octo-org", "api")
  const byUser = yield* github.getUserInstallation("octocat")
  yield* say(
    ...Format.table(["LOOKUP", "ROUTE", "INSTALLATION"], [
      ["org octo-org", "GET /orgs/{org}/installation", String(byOrg.id)],
      ["repo octo-org/api", "GET /repos/{owner}/{repo}/installation", String(byRepo.id)],
      ["user octocat", "GET /users/{username}/installation", String(byUser.id)]
    ])
  )

  const scope = { repositories: ["api"], permissions: { contents: "read" } } as const
  yield* heading("A token narrowed to one repository and one permission")
  yield* say(dim(`getAccessToken(${byRepo.id}, { repositories: ["api"], permissions: { contents: "read" } })`))
  const authorization = yield* github.getAccessToken(byRepo.id, scope)
  const now = yield* Clock.currentTimeMillis
  yield* say(
    ...Format.keyValues([
      ["token", `${Format.mask(authorization.token)} (masked; String(token) prints ${String(authorization.token)})`],
      ["expires", `${authorization.expires_at.toISOString()} (${Format.relative(authorization.expires_at, now)})`],
      ["permissions", Format.permissions(authorization.permissions)],
      ["repositories", authorization.repositories?.map((r) => r.full_name).join(", ") ?? "all"]
    ])
  )

  yield* heading("Acting as the installation with that token (GET /installation/repositories)")
  const ref = yield* github.installation(byRepo.id)
  const visible = Chunk.toReadonlyArray(yield* Stream.runCollect(ref.repositories(scope)))
  const installed = sim.installations.find((i) => i.id === byRepo.id)?.repositories.length ?? 0
  yield* say(
    `${visible.map((r) => r.full_name).join(", ")}: ${visible.length} of the installation's ${installed} repositories`
  )

  yield* heading("The same scope again: served from the token cache")
  const again = yield* github.getAccessToken(byRepo.id, scope)
  const mints = yield* sim.count(mintRoute)
  yield* say(
    `token ${Format.mask(again.token)}, the same: ${
      Redacted.value(again.token) === Redacted.value(authorization.token)
    }`,
    ok(`the simulator saw ${mints} POST ${"/app/installations/{id}/access_tokens"} in all`)
  )

  yield* heading("GitHub failing: a 502, then a secondary rate limit")
  const installationRoute = "GET /app/installations/{installation_id}"
  yield* sim.fault(installationRoute, Fault.status(502))
  const flaky = yield* observed(Effect.flatMap(github.getAppInstallation(byUser.id), (r) => r.get))
  yield* say(
    `injected: 502 Bad Gateway on ${installationRoute}`,
    ...flaky.lines.map((line) => dim(`log  ${line}`)),
    ok(
      `got installation ${flaky.value.id} after ${seconds(flaky.elapsed)}, ${yield* sim.count(
        installationRoute
      )} requests`
    )
  )
  const orgRoute = "GET /orgs/{org}/installation"
  yield* sim.fault(orgRoute, Fault.secondaryRateLimit({ retryAfter: "1 second" }))
  const limited = yield* observed(github.getOrgInstallation("octo-org"))
  yield* say(
    `injected: 403 secondary rate limit with retry-after: 1 on ${orgRoute}`,
    ...limited.lines.map((line) => dim(`log  ${line}`)),
    ok(`got installation ${limited.value.id} after ${seconds(limited.elapsed)}, having waited what GitHub asked`)
  )

  yield* heading("Revoking the token (DELETE /installation/token, authenticated by the token itself)")
  yield* tokens.revoke(authorization.token)
  const issued = (yield* sim.tokens).find((t) => Redacted.value(t.token) === Redacted.value(authorization.token))
  const refused = yield* requester.withCredentials({
    identity: "token:revoked",
    authorization: () => Effect.succeed(Redacted.make(`token ${Redacted.value(authorization.token)}`)),
    shouldRefresh: () => false
  }).requestJson({ method: "GET", path: "/installation/repositories" }).pipe(Effect.flip, Effect.either)
  if (issued?.revoked !== true || refused._tag === "Left" || refused.right._tag !== "GithubUnauthorized") {
    return yield* Effect.dieMessage("demo: the revoked token was not refused")
  }
  yield* say(
    ok(`the simulator marks ${Format.mask(authorization.token)} revoked: ${issued.revoked}`),
    "using it now fails with a typed error:",
    dim(`${refused.right._tag}: ${refused.right.message}`)
  )

  const total = yield* sim.count("*")
  const elapsed = (yield* Clock.currentTimeMillis) - started
  yield* Console.log(`\n${bold(`Done: ${total} requests over loopback HTTP in ${seconds(elapsed)}.`)}`)
  yield* say(
    dim("Against GitHub: export GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_FILE, then run github-app --help.")
  )
}))
