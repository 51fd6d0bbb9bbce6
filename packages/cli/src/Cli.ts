/**
 * The `github-app` command: app JWTs, the app, its installations and installation tokens from the shell, on
 * `@effect-github/node`. Exit codes: 0 success, 1 GitHub or network error, 2 usage or configuration error.
 *
 * @example
 * ```ts
 * import { Cli, Stdio } from "@effect-github/cli"
 * import * as NodeContext from "@effect/platform-node/NodeContext"
 * import { Effect, Layer } from "effect"
 *
 * // `github-app token --org octo-org --permission contents=read`, in-process
 * const exitCode = Cli.run(["token", "--org", "octo-org", "--permission", "contents=read"]).pipe(
 *   Effect.provide(Layer.merge(NodeContext.layer, Stdio.layer))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as AppAuth from "@effect-github/app/AppAuth"
import { PrivateKeyError } from "@effect-github/app/GithubError"
import * as HttpRequester from "@effect-github/app/HttpRequester"
import type { InstallationAuthorization } from "@effect-github/app/InstallationAuthorization"
import * as Integration from "@effect-github/app/Integration"
import * as NodeHttpTransport from "@effect-github/node/NodeHttpTransport"
import * as NodeIntegration from "@effect-github/node/NodeIntegration"
import type * as CliApp from "@effect/cli/CliApp"
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Demo from "./Demo.js"
import { type ExitCode, report, UsageError } from "./internal/errors.js"
import * as Format from "./internal/format.js"
import { Stdio } from "./Stdio.js"

/**
 * @since 0.1.0
 * @category models
 */
export type { ExitCode }

/**
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

const userAgent = `effect-github-cli/${version}`

// ---------------------------------------------------------------------------------------------------------------
// Credentials: flags win over the environment; the key itself is never a flag (it would show in `ps`).

const baseUrl = Options.text("base-url").pipe(
  Options.withDescription(
    "API root, e.g. https://github.example.com/api/v3 for GitHub Enterprise Server. Default: GITHUB_API_URL, " +
      "else https://api.github.com."
  ),
  Options.optional
)

const credentials = {
  issuer: Options.integer("app-id").pipe(
    Options.withDescription("The app's numeric App ID. Default: GITHUB_APP_ID."),
    Options.orElse(
      Options.text("client-id").pipe(
        Options.withDescription(
          "The app's Client ID (Iv23…), accepted instead of the App ID. Default: GITHUB_APP_CLIENT_ID."
        )
      )
    ),
    Options.optional
  ),
  privateKeyFile: Options.file("private-key-file").pipe(
    Options.withDescription(
      "Path of the app's private key (.pem). Default: GITHUB_APP_PRIVATE_KEY (the key itself) or " +
        "GITHUB_APP_PRIVATE_KEY_FILE."
    ),
    Options.optional
  ),
  baseUrl
}

type Credentials = Command.Command.ParseConfig<{ readonly credentials: typeof credentials }>["credentials"]

const readKeyFile = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readFileString(path).pipe(
      Effect.map(Redacted.make),
      Effect.mapError((error) =>
        new PrivateKeyError({
          problem: "Unreadable",
          description: `the file --private-key-file names, ${JSON.stringify(path)}, could not be read (${
            error._tag === "SystemError" ? error.reason : error._tag
          }). Check the path and that this process may read the file.`
        })
      )
    ))

/** The app's services, from the flags and then the environment. */
const appLayer = (options: Credentials) =>
  Layer.unwrapEffect(
    Effect.map(
      Option.match(options.privateKeyFile, { onNone: () => Effect.succeed(undefined), onSome: readKeyFile }),
      (privateKey) =>
        NodeIntegration.layerConfig({
          userAgent,
          ...(Option.isSome(options.issuer) ? { appId: options.issuer.value } : {}),
          ...(privateKey === undefined ? {} : { privateKey }),
          ...(Option.isSome(options.baseUrl) ? { baseUrl: options.baseUrl.value } : {})
        })
    )
  )

const withApp = <A, E, R>(options: Credentials, effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, appLayer(options))

const json = Options.boolean("json").pipe(Options.withDescription("Print GitHub's JSON instead of a table."))

const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

// ---------------------------------------------------------------------------------------------------------------
// jwt

const jwt = Command.make(
  "jwt",
  {
    credentials,
    expiration: Options.integer("expiration").pipe(
      Options.withDefault(300),
      Options.withDescription("Lifetime in seconds, 15 to 600 (default 300, as the library; GitHub allows 10 minutes).")
    )
  },
  ({ credentials, expiration }) =>
    withApp(
      credentials,
      Effect.gen(function*() {
        const github = yield* Integration.Integration
        const auth = yield* AppAuth.AppAuth
        // Signed on GitHub's clock when it can be learned: one cheap request's `date` tells it (a JWT GitHub
        // refuses for its clock is re-signed on the way); unreachable, the JWT is signed on the local clock.
        yield* Effect.ignore(github.requester.requestJson({ method: "GET", path: "/app" }))
        const token = yield* github.createJwt(Duration.seconds(expiration))
        const now = (yield* Clock.currentTimeMillis) + (yield* auth.clockOffset)
        yield* Console.log(Redacted.value(token))
        yield* Console.error(`App JWT, expires ${new Date(now + expiration * 1000).toISOString()} (in ${expiration} s)`)
      })
    )
).pipe(Command.withDescription("Print a JWT signed as the app: the Bearer credential of the /app routes."))

// ---------------------------------------------------------------------------------------------------------------
// app

const app = Command.make("app", { credentials, json }, ({ credentials, json }) =>
  withApp(
    credentials,
    Effect.gen(function*() {
      const github = yield* Integration.Integration
      const app = yield* github.getApp()
      yield* json ? printJson(Format.appJson(app)) : Console.log(Format.appLines(app).join("\n"))
    })
  )).pipe(Command.withDescription("Show the app (GET /app)."))

// ---------------------------------------------------------------------------------------------------------------
// installations

const installations = Command.make(
  "installations",
  {
    credentials,
    perPage: Options.integer("per-page").pipe(
      Options.withDefault(100),
      Options.withDescription("Installations per request, 1 to 100 (default 100, GitHub's maximum).")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("Print a JSON array (streamed as pages arrive).")),
    ndjson: Options.boolean("ndjson").pipe(
      Options.withDescription("Print one JSON object per line, each as soon as its page arrives.")
    )
  },
  ({ credentials, json, ndjson, perPage }) =>
    Effect.zipRight(
      json && ndjson
        ? Effect.fail(new UsageError({ description: "--json and --ndjson exclude each other: choose one." }))
        : Effect.void,
      withApp(
        credentials,
        Effect.gen(function*() {
          const github = yield* Integration.Integration
          const stdio = yield* Stdio
          let count = 0
          let pages = 0
          // A progress line on a terminal stderr while the next page loads; a listing of one page only flashes it.
          const clearProgress = Effect.suspend(() =>
            stdio.stderrIsTTY && pages > 0 ? stdio.writeStderr("\r\x1b[2K") : Effect.void
          )
          let pending: string | undefined
          let columns: ReadonlyArray<number> | undefined
          if (json) yield* Console.log("[")
          yield* github.getInstallations({ perPage }).pipe(
            Stream.runForEachChunk((chunk) =>
              Effect.gen(function*() {
                pages += 1
                yield* clearProgress
                if (!json && !ndjson && columns === undefined && chunk.length > 0) {
                  // Rows are printed as pages arrive: the first page sizes the columns.
                  columns = Format.widths([Format.installationHeaders, ...Chunk.map(chunk, Format.installationCells)])
                  yield* Console.log(Format.row(columns, Format.installationHeaders))
                }
                for (const installation of chunk) {
                  count += 1
                  if (ndjson) {
                    yield* Console.log(JSON.stringify(Format.installationJson(installation)))
                  } else if (json) {
                    // One item behind, so the last one is printed without a trailing comma.
                    if (pending !== undefined) yield* Console.log(`${pending},`)
                    pending = indent(JSON.stringify(Format.installationJson(installation), null, 2))
                  } else {
                    yield* Console.log(Format.row(columns ?? [], Format.installationCells(installation)))
                  }
                }
                if (stdio.stderrIsTTY) {
                  yield* stdio.writeStderr(`${count} installations so far (${pages} pages), fetching more…`)
                }
              })
            ),
            Effect.ensuring(clearProgress)
          )
          if (json) {
            if (pending !== undefined) yield* Console.log(pending)
            yield* Console.log("]")
          }
          if (!json && !ndjson) {
            yield* Console.log(count === 0 ? "No installations." : `\n${count} installation${count === 1 ? "" : "s"}`)
          }
        })
      )
    )
).pipe(Command.withDescription("List the app's installations, page by page (GET /app/installations)."))

const indent = (text: string) => text.split("\n").map((line) => `  ${line}`).join("\n")

// ---------------------------------------------------------------------------------------------------------------
// installation

type Target =
  | { readonly by: "id"; readonly id: number }
  | { readonly by: "org"; readonly org: string }
  | { readonly by: "repo"; readonly owner: string; readonly repo: string }
  | { readonly by: "user"; readonly user: string }
  | { readonly by: "enterprise"; readonly enterprise: string }

const fullName = (value: string) => {
  const parts = value.split("/")
  return parts.length === 2 && parts[0] !== "" && parts[1] !== ""
    ? Effect.succeed({ by: "repo" as const, owner: parts[0]!, repo: parts[1]! })
    : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--repo expects owner/name, got ${JSON.stringify(value)}`)))
}

const repoTarget = (description: string) =>
  Options.text("repo").pipe(Options.withDescription(description), Options.mapEffect(fullName))
const orgTarget = Options.text("org").pipe(
  Options.withDescription("The installation on this organization."),
  Options.map((org): Target => ({ by: "org", org }))
)
const userTarget = Options.text("user").pipe(
  Options.withDescription("The installation on this user account."),
  Options.map((user): Target => ({ by: "user", user }))
)

// Optional in the parser, then required here: @effect/cli's own message for a missing alternative lists every
// option several times over.
const required = (target: Option.Option<Target>, alternatives: string) =>
  Option.match(target, {
    onNone: () => Effect.fail(new UsageError({ description: `Which installation? Give one of ${alternatives}.` })),
    onSome: Effect.succeed
  })

const lookup = (github: Integration.Service, target: Target) => {
  switch (target.by) {
    case "id":
      return Effect.flatMap(github.getAppInstallation(target.id), (ref) => ref.get)
    case "org":
      return github.getOrgInstallation(target.org)
    case "repo":
      return github.getRepoInstallation(target.owner, target.repo)
    case "user":
      return github.getUserInstallation(target.user)
    case "enterprise":
      return github.getEnterpriseInstallation(target.enterprise)
  }
}

const installation = Command.make(
  "installation",
  {
    credentials,
    target: Options.integer("id").pipe(
      Options.withDescription("The installation with this id."),
      Options.map((id): Target => ({ by: "id", id })),
      Options.orElse(orgTarget),
      Options.orElse(repoTarget("The installation that has this repository (owner/name).")),
      Options.orElse(userTarget),
      Options.orElse(
        Options.text("enterprise").pipe(
          Options.withDescription("The installation on this enterprise (its slug)."),
          Options.map((enterprise): Target => ({ by: "enterprise", enterprise }))
        )
      ),
      Options.optional
    ),
    json
  },
  ({ credentials, json, target }) =>
    withApp(
      credentials,
      Effect.gen(function*() {
        const github = yield* Integration.Integration
        const found = yield* lookup(github, yield* required(target, "--id, --org, --repo, --user or --enterprise"))
        yield* json
          ? printJson(Format.installationJson(found))
          : Console.log(Format.installationLines(found).join("\n"))
      })
    )
).pipe(Command.withDescription("Show one installation, by id, organization, repository, user or enterprise."))

// ---------------------------------------------------------------------------------------------------------------
// token

const token = Command.make(
  "token",
  {
    credentials,
    target: Options.integer("installation").pipe(
      Options.withDescription("The installation id."),
      Options.map((id): Target => ({ by: "id", id })),
      Options.orElse(repoTarget(
        "The installation that has this repository (owner/name); the token is narrowed to it (and to any " +
          "--repository)."
      )),
      Options.orElse(orgTarget),
      Options.orElse(userTarget),
      Options.optional
    ),
    permission: Options.keyValueMap("permission").pipe(
      Options.withDescription("Narrow the token to this permission, e.g. contents=read (repeatable)."),
      Options.optional
    ),
    repository: Options.text("repository").pipe(
      Options.withDescription("Narrow the token to this repository of the installation, by name (repeatable)."),
      Options.repeated
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription("Print { token, expires_at, permissions, repository_selection, repositories }.")
    )
  },
  ({ credentials, json, permission, repository, target: given }) =>
    withApp(
      credentials,
      Effect.gen(function*() {
        const target = yield* required(given, "--installation, --repo, --org or --user")
        const github = yield* Integration.Integration
        const id = target.by === "id" ? target.id : (yield* lookup(github, target)).id
        const repositories = [...new Set([...(target.by === "repo" ? [target.repo] : []), ...repository])]
        const authorization = yield* github.getAccessToken(id, {
          // The levels are checked by the library (InvalidArgument, exit 2), not trusted.
          permissions: Option.match(permission, {
            onNone: () => undefined,
            onSome: (map) => Object.fromEntries(HashMap.toEntries(map)) as Record<string, "read">
          }),
          repositories: repositories.length === 0 ? undefined : repositories
        })
        if (json) return yield* printJson(Format.tokenJson(authorization))
        yield* Console.log(Redacted.value(authorization.token))
        yield* Console.error(yield* tokenSummary(id, authorization))
      })
    )
).pipe(
  Command.withDescription(
    "Mint an installation access token. Prints only the token, so GH_TOKEN=$(github-app token ...) works; " +
      "the expiry goes to stderr."
  )
)

const tokenSummary = (id: number, authorization: InstallationAuthorization) =>
  Effect.map(Clock.currentTimeMillis, (now) =>
    [
      `Installation ${id} token, expires ${authorization.expires_at.toISOString()} (${
        Format.relative(authorization.expires_at, now)
      })`,
      `permissions ${Format.permissions(authorization.permissions)}`,
      authorization.repositories === undefined
        ? `repositories ${authorization.repository_selection ?? "all"}`
        : `repositories ${authorization.repositories.map((r) => r.full_name).join(", ")}`
    ].join("; "))

// ---------------------------------------------------------------------------------------------------------------
// revoke: needs only the token (it authenticates the request), not the app's credentials.

const revoke = Command.make(
  "revoke",
  {
    token: Options.redacted("token").pipe(
      Options.withDescription("The installation token to revoke. Default: read from standard input."),
      Options.optional
    ),
    baseUrl
  },
  ({ baseUrl, token }) =>
    Effect.gen(function*() {
      const value = yield* Option.match(token, { onNone: () => tokenFromStdin, onSome: Effect.succeed })
      const base = yield* HttpRequester.HttpRequester
      const requester = base.withCredentials({
        identity: "token:revoke",
        authorization: () => Effect.succeed(Redacted.make(`token ${Redacted.value(value)}`)),
        shouldRefresh: () => false
      })
      yield* requester.requestJson({ method: "DELETE", path: "/installation/token" })
      yield* Console.error("Token revoked.")
    }).pipe(Effect.provide(requesterLayer(baseUrl)))
).pipe(Command.withDescription("Revoke an installation token (DELETE /installation/token), from --token or stdin."))

const tokenFromStdin = Effect.gen(function*() {
  const stdio = yield* Stdio
  if (stdio.stdinIsTTY) {
    return yield* new UsageError({
      description: "No token to revoke: give --token, or pipe it on standard input (github-app revoke < token.txt)."
    })
  }
  const text = (yield* Effect.mapError(stdio.readStdin, (error) => new UsageError({ description: error.message })))
    .trim()
  if (text === "" || /\s/.test(text)) {
    return yield* new UsageError({ description: "Standard input must hold exactly one token." })
  }
  return Redacted.make(text)
})

const requesterLayer = (baseUrl: Option.Option<string>) =>
  Layer.unwrapEffect(
    Effect.map(
      Config.option(Config.nonEmptyString("GITHUB_API_URL")),
      (fromEnv) =>
        HttpRequester.layer({ userAgent, baseUrl: Option.getOrUndefined(Option.orElse(baseUrl, () => fromEnv)) })
    )
  ).pipe(Layer.provide(NodeHttpTransport.layer()))

// ---------------------------------------------------------------------------------------------------------------

const demo = Command.make("demo", {}, () => Demo.run).pipe(
  Command.withDescription(
    "A guided tour against an embedded GitHub simulator on 127.0.0.1: no GitHub account or credentials needed."
  )
)

const subcommands = [jwt, app, installations, installation, token, revoke, demo] as const
const names = ["jwt", "app", "installations", "installation", "token", "revoke", "demo"]

/**
 * The command tree, for embedding in a larger @effect/cli program.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("github-app", {}, () =>
  Effect.zipRight(
    Console.error(HelpDoc.toAnsiText(rootHelp())),
    new UsageError({ description: `Missing command: give one of ${names.join(", ")}.` })
  )).pipe(
    Command.withDescription("Mint GitHub App JWTs and installation tokens, and inspect the app's installations."),
    Command.withSubcommands(subcommands)
  )

function rootHelp(): HelpDoc.HelpDoc {
  return Command.getHelp(command, CliConfig.defaultConfig)
}

const cli = Command.run(command, { name: "github-app", version, executable: "github-app" })

// Library logs (retry waits, rate limits) go to stderr, so they never mix with a token on stdout.
const stderrLogger = Logger.withConsoleError(
  Logger.make(({ logLevel, message }) =>
    `${logLevel.label.toLowerCase()}: ${
      (Array.isArray(message) ? message : [message]).map((part) => typeof part === "string" ? part : String(part))
        .join(" ")
    }`
  )
)

/**
 * Runs `github-app` with these arguments (without the executable: `process.argv.slice(2)`), printing through
 * `Console`, and returns the exit code: 0 success, 1 GitHub or network error, 2 usage or configuration error.
 * Never fails; a defect (a bug) is reported and gives 1.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  args: ReadonlyArray<string>
): Effect.Effect<ExitCode, never, CliApp.CliApp.Environment | Stdio> =>
  cli(["github-app", "github-app", ...args]).pipe(
    Effect.as<ExitCode>(0),
    Effect.catchAll((error) => {
      const { code, text } = report(error)
      return Effect.as(text === undefined ? Effect.void : Console.error(text), code)
    }),
    Effect.catchAllDefect((defect) =>
      Effect.as(Console.error(`github-app failed unexpectedly (a bug): ${Cause.pretty(Cause.die(defect))}`), 1 as const)
    ),
    Effect.locally(FiberRef.currentLoggers, HashSet.make(stderrLogger)),
    (program) =>
      Effect.flatMap(Stdio, ({ color }) =>
        color ? program : Effect.consoleWith((console) => Effect.withConsole(program, plain(console))))
  )

// @effect/cli styles its help and errors with ANSI codes whatever the output is; a file or a pipe gets text.
// eslint-disable-next-line no-control-regex -- ESC is exactly what is matched
const ansi = /\x1b\[[0-9;]*m/g
const plain = (console: Console.Console): Console.Console => {
  const strip = (args: ReadonlyArray<unknown>) =>
    args.map((arg) => typeof arg === "string" ? arg.replace(ansi, "") : arg)
  return Object.assign(Object.create(console) as Console.Console, {
    log: (...args: ReadonlyArray<unknown>) => console.log(...strip(args)),
    error: (...args: ReadonlyArray<unknown>) => console.error(...strip(args))
  })
}
