/**
 * Where installation tokens are shared beyond one process: a second level behind `InstallationTokens`' own cache,
 * which also makes one mint per key for everyone sharing it. Without one in context tokens live in the process.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { InstallationAuthorization } from "./InstallationAuthorization.js"

/**
 * The store could not be reached, or refused. A corrupted or undecryptable entry is not an error: it reads as a
 * miss (and is minted anew), never as a token.
 *
 * @since 0.2.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@effect-github/app/TokenStoreError")(
  "TokenStoreError",
  {
    operation: Schema.String,
    description: Schema.String
  }
) {
  /** @since 0.2.0 */
  override get message(): string {
    return `The token store failed (${this.operation}): ${this.description}`
  }
}

/**
 * @since 0.2.0
 * @category models
 */
export interface GetOrMintOptions {
  /**
   * A stored token is taken only if it is good until at least this instant (epoch ms on the caller's clock,
   * already corrected to GitHub's clock and less the refresh margin): `expires_at` must be later.
   */
  readonly goodAfter: number
  /** How long a mint may take at most: a lock held for it expires after this, should its holder die. */
  readonly mintTimeout: number
}

/**
 * The seam. `key` is `InstallationTokens`' canonical key (installation, sorted permissions, sorted repositories);
 * the store's own prefix names the app and GitHub host.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /**
   * A token for the key: a stored one good until `goodAfter`, or one that `mint` makes, run once across every
   * process sharing the store however many ask at once (the others wait for it and take the stored result).
   */
  readonly getOrMint: <E>(
    key: string,
    options: GetOrMintOptions,
    mint: Effect.Effect<InstallationAuthorization, E>
  ) => Effect.Effect<InstallationAuthorization, E | TokenStoreError>
  /** Forgets the key's token (after a revoke, or when GitHub refused it). */
  readonly remove: (key: string) => Effect.Effect<void, TokenStoreError>
}

/**
 * The store in context. Without one, `InstallationTokens` keeps tokens in its process only.
 *
 * @since 0.2.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@effect-github/app/TokenStore")<TokenStore, Service>() {}
