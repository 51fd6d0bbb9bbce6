/**
 * What a failure means for the shell: the exit code (1 GitHub or network, 2 usage or configuration) and the one
 * message printed to stderr. Every message comes from the error itself, and none of them holds a secret.
 */
import * as GithubError from "@effect-github/app/GithubError"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * A command line that cannot be run as given (options that exclude each other, a missing token, ...).
 */
export class UsageError extends Schema.TaggedError<UsageError>("@effect-github/cli/UsageError")("UsageError", {
  description: Schema.String
}) {
  override get message(): string {
    return this.description
  }
}

export type ExitCode = 0 | 1 | 2

const configLines = (error: ConfigError.ConfigError): Array<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configLines(error.left), ...configLines(error.right)]
    default:
      return [error.message === "" ? `${error.path.join(".")} is missing or invalid` : error.message]
  }
}

const credentialsHint = "Credentials come from flags (--app-id or --client-id, --private-key-file, --base-url) or " +
  "the environment (GITHUB_APP_ID or GITHUB_APP_CLIENT_ID, GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, " +
  "GITHUB_API_URL)."

/** How each command is called, for the line under a parse error. */
const usages: Readonly<Record<string, string>> = {
  jwt: "github-app jwt [--expiration SECONDS]",
  app: "github-app app [--json]",
  installations: "github-app installations [--json | --ndjson]",
  installation: "github-app installation (--id N | --org O | --repo owner/name | --user U | --enterprise E) [--json]",
  token: "github-app token (--installation N | --repo owner/name | --org O | --user U) " +
    "[--permission name=level]... [--repository name]... [--json]",
  revoke: "github-app revoke [--token T]",
  demo: "github-app demo"
}

/** `Usage: ...` and where the options are described, for the command in `args` (or the command list). */
export const usageHint = (args: ReadonlyArray<string>): string => {
  const command = args.find((arg) => !arg.startsWith("-"))
  const usage = command === undefined ? undefined : usages[command]
  return usage === undefined
    ? `Usage: github-app <command> [options], with a command of ${Object.keys(usages).join(", ")}. ` +
      "See github-app --help."
    : `Usage: ${usage}. See github-app ${command} --help for every option.`
}

// eslint-disable-next-line no-control-regex -- ESC is exactly what is matched
const ansi = /\x1b\[[0-9;]*m/g

/** The flag a value was given to: `--installation abc` or `--installation=abc`. */
const flagOf = (args: ReadonlyArray<string>, value: string): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === value && i > 0 && args[i - 1]!.startsWith("--")) return args[i - 1]
    if (arg.startsWith("--") && arg.endsWith(`=${value}`)) return arg.slice(0, arg.indexOf("="))
  }
  return undefined
}

/**
 * One clear line for what @effect/cli refused, instead of its own text (for a value that failed one of several
 * alternatives it adds "Expected to find option" for each of the others).
 */
export const parseErrorLine = (error: ValidationError.ValidationError, args: ReadonlyArray<string>): string => {
  const lines = HelpDoc.toAnsiText(error.error).replace(ansi, "").split("\n").map((line) => line.trim())
    .filter((line) => line !== "")
  const expected = lines.filter((line) => line.startsWith("Expected to find option"))
  const other = lines.filter((line) => !line.startsWith("Expected to find option"))
  if (other.length === 0) {
    const flags = expected.map((line) => line.match(/'([^']+)'/)?.[1]).filter((flag) => flag !== undefined)
    return flags.length === 0 ? "A required option is missing." : `Missing option: give ${flags.join(" or ")}.`
  }
  const first = other[0]!
  const notA = first.match(/^'(.*)' is not an? (\w+)$/)
  if (notA !== null) {
    const [, value, kind] = notA
    const flag = flagOf(args, value!)
    const article = /^[aeiou]/.test(kind!) ? "an" : "a"
    return `${flag ?? "An option"} expects ${article} ${kind}, got ${JSON.stringify(value)}.`
  }
  if (first === "text options do not have a default value" || /do not have a default value/.test(first)) {
    const permission = args.findIndex((arg, i) => arg === "--permission" && !(args[i + 1] ?? "").includes("="))
    return permission >= 0
      ? "--permission expects name=level, e.g. --permission contents=read."
      : `An option is missing its value (${first}).`
  }
  const unknown = first.match(/^Received unknown argument: '(.*)'$/)
  if (unknown !== null) return `Unknown option or argument ${JSON.stringify(unknown[1])}.`
  return other.join(" ")
}

// Library option names in messages, as the CLI flags that set them: a CLI user has no `baseUrl` to set.
const flags: Readonly<Record<string, string>> = {
  baseUrl: "--base-url",
  verify: "--ca-file",
  timeout: "--timeout",
  retry: "--retries",
  perPage: "--per-page",
  installationId: "--installation",
  permissions: "--permission",
  repositories: "--repository",
  repositoryIds: "--repository",
  expiration: "--expiration",
  appId: "--app-id",
  org: "--org",
  owner: "--repo",
  repo: "--repo",
  username: "--user",
  enterprise: "--enterprise"
}

const invalidArgumentText = (error: GithubError.InvalidArgument, args: ReadonlyArray<string>): string => {
  // `installation --id N`, `token --installation N`
  const flag = error.argument === "installationId" && args[0] === "installation" ? "--id" : flags[error.argument]
  const description = error.description.replace(/, or set allowInsecureHttp/, "")
  return flag === undefined ? error.message : `Invalid ${flag}: ${description}`
}

const tlsProblem = /certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY|unable to verify|DEPTH_ZERO/i
const notTls = /WRONG_VERSION_NUMBER|wrong version number|packet length too long|EPROTO/i

const where = (error: { readonly method?: string | undefined; readonly route?: string | undefined }) =>
  error.method !== undefined && error.route !== undefined ? ` (${error.method} ${error.route})` : ""

/** The transport error in the CLI's words: what failed, then the flags that change it. */
const transportText = (error: GithubError.GithubTransportError): string => {
  const what = error.reason === "Timeout"
    ? "GitHub did not answer in time"
    : error.reason === "Connection"
    ? error.notProcessed ? "Could not connect to GitHub" : "The connection to GitHub was lost"
    : error.reason === "Body"
    ? "GitHub's response could not be read"
    : "The request to GitHub failed"
  const fix = notTls.test(error.description)
    ? "The server does not speak TLS there: check --base-url (https:// for GitHub, and GitHub Enterprise " +
      "Server's https port)."
    : tlsProblem.test(error.description)
    ? "The server's TLS certificate was not accepted: give its CA bundle with --ca-file, or (testing only) " +
      "--insecure-skip-verify."
    : error.reason === "Timeout"
    ? "Raise --timeout (seconds per attempt), check --base-url and the network, or set --retries."
    : "Check --base-url and the network; --retries sets how often a request is tried again."
  return `${what}${where(error)}: ${error.description}. ${fix}`
}

const rateLimitedText = (error: GithubError.GithubRateLimited): string => {
  const kind = error.kind === "primary" ? "Primary rate limit exhausted" : "Secondary rate limit hit"
  const when = error.resetAt !== undefined
    ? ` It resets at ${error.resetAt.toISOString()}.`
    : error.retryAfter !== undefined
    ? ` GitHub asks to wait ${Math.ceil(Duration.toSeconds(error.retryAfter))} s.`
    : ""
  const says = error.githubMessage === undefined || error.githubMessage === ""
    ? ""
    : `: GitHub says "${error.githubMessage}"`
  return `${kind}${where(error)}${says}.${when} Run the command again after that.` +
    (error.requestId === undefined ? "" : ` [request id ${error.requestId}]`)
}

/** The exit code and stderr text for a failure. */
export const report = (
  error: unknown,
  args: ReadonlyArray<string> = []
): { readonly code: 1 | 2; readonly text: string | undefined } => {
  if (ValidationError.isValidationError(error)) {
    return { code: 2, text: `${parseErrorLine(error, args)}\n${usageHint(args)}` }
  }
  if (ConfigError.isConfigError(error)) {
    return { code: 2, text: `Configuration error: ${[...new Set(configLines(error))].join(" ")}\n${credentialsHint}` }
  }
  if (error instanceof UsageError) return { code: 2, text: `${error.message}\nSee --help for the options.` }
  if (GithubError.isGithubError(error)) {
    switch (error._tag) {
      case "PrivateKeyError":
        return { code: 2, text: error.message }
      case "InvalidArgument":
        return { code: 2, text: invalidArgumentText(error, args) }
      case "GithubTransportError":
        return { code: 1, text: transportText(error) }
      case "GithubRateLimited":
        return { code: 1, text: rateLimitedText(error) }
      case "JwtError":
        return { code: error.reason === "InvalidOptions" ? 2 : 1, text: error.message }
      default:
        return { code: 1, text: error.message }
    }
  }
  return { code: 1, text: error instanceof Error ? error.message : String(error) }
}
