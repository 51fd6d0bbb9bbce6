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
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { identity } from "effect/Function"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as EffectLogger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Demo from "./Demo.js"
import { type ExitCode, report, UsageError } from "./internal/errors.js"
import * as Format from "./internal/format.js"
import * as Logger from "./internal/logger.js"
import { Stdio } from "./Stdio.js"
import * as WebhookCommands from "./WebhookCommands.js"

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

// How requests travel: per-attempt timeout, retries and TLS verification, for every command that talks to GitHub.
const connection = {
  timeout: Options.float("timeout").pipe(
    Options.withDescription("Seconds to wait for each attempt of a request. Default: 15."),
    Options.optional
  ),
  retries: Options.integer("retries").pipe(
    Options.withDescription(
      "How many times a failed request is tried again (network errors, 5xx, rate limits). Default: 4; 0: never."
    ),
    Options.optional
  ),
  caFile: Options.file("ca-file").pipe(
    Options.withDescription(
      "PEM bundle of the CA that signed the server's certificate, e.g. a GitHub Enterprise Server's internal CA."
    ),
    Options.optional
  ),
  insecureSkipVerify: Options.boolean("insecure-skip-verify").pipe(
    Options.withDescription("Accept any TLS certificate (testing only).")
  )
}

type Connection = Command.Command.ParseConfig<{ readonly connection: typeof connection }>["connection"]

/** The library options the connection flags set, or a usage error for flags that cannot go together. */
const connectionOptions = (options: Connection): Effect.Effect<
  {
    readonly timeout?: Duration.Duration
    readonly retry?: number | false
    readonly verify?: boolean | string
  },
  UsageError
> =>
  Effect.gen(function*() {
    const { caFile, insecureSkipVerify, retries, timeout } = options
    if (insecureSkipVerify && Option.isSome(caFile)) {
      return yield* new UsageError({ description: "--ca-file and --insecure-skip-verify exclude each other." })
    }
    if (Option.isSome(timeout) && !(timeout.value > 0 && Number.isFinite(timeout.value))) {
      return yield* new UsageError({
        description: `--timeout must be a positive number of seconds, got ${timeout.value}.`
      })
    }
    if (Option.isSome(retries) && retries.value < 0) {
      return yield* new UsageError({ description: `--retries must be 0 or more, got ${retries.value}.` })
    }
    return {
      ...(Option.isSome(timeout) ? { timeout: Duration.millis(Math.ceil(timeout.value * 1000)) } : {}),
      // the library counts attempts in all; the flag counts the tries after the first
      ...(Option.isSome(retries) ? { retry: retries.value === 0 ? false : retries.value + 1 } : {}),
      ...(insecureSkipVerify ? { verify: false } : Option.isSome(caFile) ? { verify: caFile.value } : {})
    }
  })

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
  baseUrl,
  ...connection
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
      Effect.all([
        Option.match(options.privateKeyFile, { onNone: () => Effect.succeed(undefined), onSome: readKeyFile }),
        connectionOptions(options)
      ]),
      ([privateKey, connection]) =>
        NodeIntegration.layerConfig({
          userAgent,
          ...connection,
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
          // Opened with the first page, so a listing that fails at once prints no half JSON document.
          let opened = false
          yield* github.getInstallations({ perPage }).pipe(
            Stream.runForEachChunk((chunk) =>
              Effect.gen(function*() {
                pages += 1
                yield* clearProgress
                if (!opened && chunk.length > 0) {
                  opened = true
                  if (json) yield* Console.log("[")
                  // Rows are printed as pages arrive: the columns have fixed widths, the same on every page.
                  else if (!ndjson) {
                    yield* Console.log(Format.row(Format.installationWidths, Format.installationHeaders))
                  }
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
                    yield* Console.log(Format.row(Format.installationWidths, Format.installationCells(installation)))
                  }
                }
                if (stdio.stderrIsTTY) {
                  yield* stdio.writeStderr(
                    `${count} installation${count === 1 ? "" : "s"} so far (${pages} page${
                      pages === 1 ? "" : "s"
                    }), fetching more…`
                  )
                }
              })
            ),
            Effect.ensuring(clearProgress)
          )
          if (json) {
            if (!opened) yield* Console.log("[")
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
      Options.withDescription("The installation id (or give --repo, --org or --user: one of them is needed)."),
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
      Options.withDescription(
        "Narrow the token to this repository of the installation, by name without the owner (repeatable)."
      ),
      Options.repeated,
      // a default shows the flag as optional in the help, as it is
      Options.withDefault([])
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription("Print { token, expires_at, permissions, repository_selection, repositories }.")
    )
  },
  ({ credentials, json, permission, repository: named, target: given }) =>
    withApp(
      credentials,
      Effect.gen(function*() {
        const repository: ReadonlyArray<string> = named
        const withOwner = repository.find((name) => /^[A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9._-]+$/.test(name))
        if (withOwner !== undefined) {
          return yield* new UsageError({
            description: `--repository takes a repository name without its owner (the installation's account is ` +
              `implied): --repository ${withOwner.slice(withOwner.lastIndexOf("/") + 1)}, not ${withOwner}. To ` +
              `pick the installation by repository, give --repo ${withOwner}.`
          })
        }
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
    baseUrl,
    connection: Options.all(connection)
  },
  ({ baseUrl, connection, token }) =>
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
    }).pipe(Effect.provide(requesterLayer(baseUrl, connection)))
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

const requesterLayer = (baseUrl: Option.Option<string>, options: Connection) =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.all([Config.option(Config.nonEmptyString("GITHUB_API_URL")), connectionOptions(options)]),
      ([fromEnv, { verify, ...connection }]) =>
        HttpRequester.layer({
          userAgent,
          ...connection,
          baseUrl: Option.getOrUndefined(Option.orElse(baseUrl, () => fromEnv))
        }).pipe(Layer.provide(NodeHttpTransport.layer(verify === undefined ? {} : { verify })))
    )
  )

// ---------------------------------------------------------------------------------------------------------------

const demo = Command.make("demo", {}, () => Demo.run).pipe(
  Command.withDescription(
    "A guided tour against an embedded GitHub simulator on 127.0.0.1: no GitHub account or credentials needed."
  )
)

// A handler runs only once the command line parsed: from then on, stderr is the command's (see `run`).
const ParsePhase = FiberRef.unsafeMake<{ readonly end: Effect.Effect<void> } | undefined>(undefined)
const parsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.zipRight(
    Effect.flatMap(FiberRef.get(ParsePhase), (phase) => phase === undefined ? Effect.void : phase.end),
    effect
  )

const { deliveries, webhooks } = WebhookCommands.make(credentials, appLayer, parsed)

const subcommands = [
  Command.transformHandler(jwt, parsed),
  Command.transformHandler(app, parsed),
  Command.transformHandler(installations, parsed),
  Command.transformHandler(installation, parsed),
  Command.transformHandler(token, parsed),
  Command.transformHandler(revoke, parsed),
  Command.transformHandler(demo, parsed),
  webhooks,
  deliveries
] as const
const names = ["jwt", "app", "installations", "installation", "token", "revoke", "demo", "webhooks", "deliveries"]

/**
 * The command tree, for embedding in a larger @effect/cli program.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("github-app", {}, () =>
  parsed(Effect.zipRight(
    Console.error(HelpDoc.toAnsiText(rootHelp())),
    new UsageError({ description: `Missing command: give one of ${names.join(", ")}.` })
  ))).pipe(
    Command.withDescription("Mint GitHub App JWTs and installation tokens, and inspect the app's installations."),
    Command.withSubcommands(subcommands)
  )

function rootHelp(): HelpDoc.HelpDoc {
  return Command.getHelp(command, CliConfig.defaultConfig)
}

const cli = Command.run(command, { name: "github-app", version, executable: "github-app" })

/**
 * Runs `github-app` with these arguments (without the executable: `process.argv.slice(2)`), printing through
 * `Console`, and returns the exit code: 0 success, 1 GitHub or network error, 2 usage or configuration error.
 * Never fails; a defect (a bug) is reported and gives 1.
 *
 * Library logs go to stderr, so they never mix with a token on stdout: each retry as one line
 * (`retrying GET /app: ... (attempt 2 of 5, next in 1 s)`), warnings and errors; `--log-level` shows more.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  args: ReadonlyArray<string>
): Effect.Effect<ExitCode, never, CliApp.CliApp.Environment | Stdio> =>
  Effect.suspend(() => {
    // While @effect/cli parses, what it prints to stderr is held back: a parse error is reported as one line
    // of ours instead. The first handler to run lets it through.
    let held: Array<ReadonlyArray<unknown>> | undefined = []
    const logLevelGiven = args.some((arg) => arg === "--log-level" || arg.startsWith("--log-level="))
    const logger = Logger.stderr(logLevelGiven ? LogLevel.All : LogLevel.Warning)
    const program = Effect.consoleWith((console) => {
      const end = Effect.suspend(() => {
        const lines = held ?? []
        held = undefined
        return Effect.forEach(lines, (line) => console.error(...line), { discard: true })
      })
      const holding = Object.assign(Object.create(console) as Console.Console, {
        error: (...line: ReadonlyArray<unknown>) =>
          held === undefined ? console.error(...line) : Effect.sync(() => void held?.push(line))
      })
      return cli(["github-app", "github-app", ...args]).pipe(
        Effect.locally(ParsePhase, { end }),
        Effect.withConsole(holding),
        Effect.as<ExitCode>(0),
        Effect.catchAll((error) => {
          // a failure after parsing: whatever @effect/cli held back belongs with it
          const flush = ValidationError.isValidationError(error) && held !== undefined ? Effect.void : end
          held = undefined
          const { code, text } = report(error, args)
          return Effect.as(Effect.zipRight(flush, text === undefined ? Effect.void : console.error(text)), code)
        }),
        Effect.ensuring(end)
      )
    })
    return program.pipe(
      Effect.catchAllDefect((defect) =>
        Effect.as(
          Console.error(`github-app failed unexpectedly (a bug): ${Cause.pretty(Cause.die(defect))}`),
          1 as const
        )
      ),
      Effect.locally(FiberRef.currentLoggers, HashSet.make(logger)),
      // retries are logged at debug after the first: let them reach the logger, which drops other debug lines
      logLevelGiven ? identity : EffectLogger.withMinimumLogLevel(LogLevel.Debug),
      (program) =>
        Effect.flatMap(Stdio, ({ color }) =>
          color ? program : Effect.consoleWith((console) => Effect.withConsole(program, plain(console))))
    )
  })

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
