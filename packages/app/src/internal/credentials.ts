/**
 * The two ways a GitHub App authenticates, as `HttpRequester.Credentials`.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as AppAuth from "../AppAuth.js"
import { isJwtClaimRejection } from "../GithubError.js"
import type * as HttpRequester from "../HttpRequester.js"
import * as IdentityStore from "../IdentityStore.js"

/** As the app: `Bearer <jwt>`, re-signed once when GitHub rejects the JWT's time claims. */
export const app = (auth: AppAuth.Service): HttpRequester.Credentials => {
  // the JWT is reused for minutes: so is its header value
  let last: { readonly jwt: Redacted.Redacted<string>; readonly header: Redacted.Redacted<string> } | undefined
  const header = (jwt: Redacted.Redacted<string>) => {
    if (last?.jwt !== jwt) last = { jwt, header: Redacted.make(`Bearer ${Redacted.value(jwt)}`) }
    return last.header
  }
  return {
    identity: IdentityStore.app(auth.issuer),
    authorization: (fresh) => Effect.map(fresh ? Effect.zipRight(auth.invalidate, auth.jwt) : auth.jwt, header),
    shouldRefresh: (error) => error.reason === "ClockSkew" || isJwtClaimRejection(error.githubMessage),
    observeServerTime: auth.observeServerTime
  }
}

/** As an installation, with a token obtained (and refreshed) by `token`. */
export const installation = (options: {
  readonly installationId: number
  readonly token: (fresh: boolean) => Effect.Effect<Redacted.Redacted<string>, HttpRequester.RequestError>
  readonly observeServerTime?: ((serverTime: Date) => Effect.Effect<void>) | undefined
}): HttpRequester.Credentials => ({
  identity: IdentityStore.installation(options.installationId),
  authorization: (fresh) =>
    Effect.map(options.token(fresh), (token) => Redacted.make(`token ${Redacted.value(token)}`)),
  shouldRefresh: (error) => error.reason === "BadCredentials",
  observeServerTime: options.observeServerTime
})

let anonymousTokens = 0

/**
 * A fixed token, e.g. one to revoke: it counts against its installation when that is known, else it is an
 * identity of its own.
 */
export const token = (value: Redacted.Redacted<string>, installationId?: number): HttpRequester.Credentials => ({
  identity: installationId === undefined ? `token:${++anonymousTokens}` : IdentityStore.installation(installationId),
  authorization: () => Effect.succeed(Redacted.make(`token ${Redacted.value(value)}`)),
  shouldRefresh: () => false
})
