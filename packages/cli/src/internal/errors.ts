/**
 * What a failure means for the shell: the exit code (1 GitHub or network, 2 usage or configuration) and the one
 * message printed to stderr. Every message comes from the error itself, and none of them holds a secret.
 */
import * as GithubError from "@effect-github/app/GithubError"
import * as ValidationError from "@effect/cli/ValidationError"
import * as ConfigError from "effect/ConfigError"
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

/** The exit code and stderr text for a failure; `undefined` text when @effect/cli has printed it already. */
export const report = (error: unknown): { readonly code: 1 | 2; readonly text: string | undefined } => {
  if (ValidationError.isValidationError(error)) return { code: 2, text: undefined }
  if (ConfigError.isConfigError(error)) {
    return { code: 2, text: `Configuration error: ${[...new Set(configLines(error))].join(" ")}\n${credentialsHint}` }
  }
  if (error instanceof UsageError) return { code: 2, text: `${error.message}\nSee --help for the options.` }
  if (GithubError.isGithubError(error)) {
    switch (error._tag) {
      case "PrivateKeyError":
      case "InvalidArgument":
        return { code: 2, text: error.message }
      case "JwtError":
        return { code: error.reason === "InvalidOptions" ? 2 : 1, text: error.message }
      default:
        return { code: 1, text: error.message }
    }
  }
  return { code: 1, text: error instanceof Error ? error.message : String(error) }
}
