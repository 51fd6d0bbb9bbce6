/**
 * Turns a GitHub App's credentials into the JWTs GitHub accepts: parsed once, signed on GitHub's clock, reused.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { NodeInspectSymbol } from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { JwtError, PrivateKeyError } from "./GithubError.js"
import { isCompactJwt, rs256 } from "./internal/jwt.js"
import { durationMillis } from "./internal/options.js"
import { importPrivateKey, parsePrivateKey } from "./internal/privateKey.js"

/**
 * The claims GitHub expects in an app JWT (`iat`, `exp` in seconds since the epoch; `iss` the App ID or
 * Client ID).
 *
 * @since 0.1.0
 * @category models
 */
export interface JwtClaims {
  readonly iat: number
  readonly exp: number
  readonly iss: string
}

/**
 * An external signer (KMS, HSM): receives the claims and the algorithm, returns the compact JWT.
 *
 * @since 0.1.0
 * @category models
 */
export type Signer = (
  claims: JwtClaims,
  algorithm: string
) => Effect.Effect<Redacted.Redacted<string> | string, unknown>

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Numeric App ID or Client ID (`Iv1.…` / `Iv23…`): both are valid issuers. */
  readonly appId: number | string
  /** PEM (PKCS#1 or PKCS#8), tolerant of env-var mangling; not given when `sign` is. */
  readonly privateKey?: Redacted.Redacted<string> | string | undefined
  /** JWT lifetime; default 300 s, accepted 15..600 s. */
  readonly jwtExpiry?: Duration.DurationInput | undefined
  /**
   * How far before now `iat` is set, against clock drift; default 60 s (PyGithub's `jwt_issued_at=-60`),
   * accepted 0..600 s. A Duration such as `"60 seconds"`, not a negative number.
   */
  readonly jwtIssuedAt?: Duration.DurationInput | undefined
  /** Default `RS256`, the only algorithm GitHub accepts; another is only passed on to a custom `sign`. */
  readonly algorithm?: string | undefined
  /** External signer; when given, no private key is given. */
  readonly sign?: Signer | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CreateJwtOptions {
  /** Lifetime of this JWT (15..600 s); default the layer's `jwtExpiry`. */
  readonly expiration?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The issuer (`iss`) this app signs with. */
  readonly issuer: string
  /** Signs a new JWT. */
  readonly createJwt: (options?: CreateJwtOptions) => Effect.Effect<Redacted.Redacted<string>, JwtError>
  /**
   * A JWT reused until less than 60 s of it remain (half its lifetime when `jwtExpiry` is under 2 minutes);
   * concurrent callers share one signature.
   */
  readonly jwt: Effect.Effect<Redacted.Redacted<string>, JwtError>
  /** Drops the reused JWT, so the next `jwt` signs a new one (after GitHub rejected the last). */
  readonly invalidate: Effect.Effect<void>
  /**
   * Tells AppAuth the server's time (from a response's `date` header) so it signs on GitHub's clock. An invalid
   * Date is ignored; a change of the offset by more than 5 s drops the reused JWT.
   */
  readonly observeServerTime: (serverTime: Date) => Effect.Effect<void>
  /** The learned offset of the server's clock from ours, in milliseconds (server - local). */
  readonly clockOffset: Effect.Effect<number>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AppAuth extends Context.Tag("@effect-github/app/AppAuth")<AppAuth, Service>() {}

/**
 * PyGithub's defaults: a 300 s JWT, `iat` 60 s in the past, RS256.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  jwtExpiry: Duration.seconds(300),
  jwtIssuedAt: Duration.seconds(60),
  algorithm: "RS256"
} as const

/** A reused JWT is replaced when less than this remains of it. */
const reuseMarginMillis = 60_000
/** The `date` header has a 1 s resolution and requests take time: smaller offset changes are noise. */
const offsetToleranceMillis = 5_000

const invalidOptions = (description: string) => new JwtError({ reason: "InvalidOptions", description })

const decodeIssuer = (appId: unknown): Either.Either<string, JwtError> => {
  if (typeof appId === "number") {
    return Number.isSafeInteger(appId) && appId > 0
      ? Either.right(String(appId))
      : Either.left(invalidOptions(`appId ${appId} is not a positive integer App ID.`))
  }
  const issuer = typeof appId === "string" ? appId.trim() : ""
  return /^[\w.-]+$/.test(issuer)
    ? Either.right(issuer)
    : Either.left(
      invalidOptions(
        "appId must be the app's numeric App ID or its Client ID (e.g. Iv23li...), as shown on the app's " +
          "settings page; got " + (issuer === "" ? "an empty value." : "a value with spaces or other characters.")
      )
    )
}

const decodeMillis = (
  input: Duration.DurationInput,
  name: string,
  minSeconds: number,
  maxSeconds: number,
  meaning: string
): Either.Either<number, JwtError> =>
  Either.mapLeft(
    durationMillis(input, input, { min: minSeconds * 1000, max: maxSeconds * 1000 }),
    ({ got }) =>
      invalidOptions(
        `${name} must be a Duration from ${minSeconds} to ${maxSeconds} seconds (${meaning}), e.g. "${
          Math.max(minSeconds, 60)
        } seconds"; got ${got}.`
      )
  )

const decodeExpiry = (input: Duration.DurationInput, name: string) =>
  decodeMillis(input, name, 15, 600, "GitHub refuses JWTs that live longer than 10 minutes")

interface Cached {
  readonly jwt: Redacted.Redacted<string>
  /** On the server's clock, in milliseconds. */
  readonly signedAt: number
  readonly expiresAt: number
  /** The clock offset it was signed with. */
  readonly offset: number
}

interface State {
  /** The learned offset of the server's clock from ours (server - local), in milliseconds. */
  readonly offset: number
  readonly cached: Cached | undefined
}

type SignClaims = (iat: number, exp: number) => Effect.Effect<Redacted.Redacted<string>, JwtError>

const externalSigner = (sign: Signer, issuer: string, algorithm: string): SignClaims => (iat, exp) =>
  Effect.suspend(() => sign({ iat, exp, iss: issuer }, algorithm)).pipe(
    Effect.catchAllCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.fail(cause)),
    Effect.matchEffect({
      onFailure: (cause) => Effect.fail(signerFailed(cause)),
      onSuccess: (result) => {
        const jwt = Redacted.isRedacted(result) ? result : Redacted.make(result)
        const text = Redacted.value(jwt)
        return typeof text === "string" && isCompactJwt(text)
          ? Effect.succeed(jwt as Redacted.Redacted<string>)
          : Effect.fail(
            new JwtError({
              reason: "SignerFailed",
              description: "the custom signer returned something that is not a compact JWT " +
                "(header.payload.signature in base64url). Make `sign` return the signed token."
            })
          )
      }
    })
  )

const signerFailed = (cause: Cause.Cause<unknown>): JwtError => {
  // Only the error's tag is shown: a signer's message may quote what it was signing or its credentials.
  const failure = Cause.failureOption(cause)
  const tag = Option.isSome(failure) && Predicate.hasProperty(failure.value, "_tag") &&
      typeof failure.value._tag === "string" && /^\w{1,64}$/.test(failure.value._tag)
    ? ` with ${failure.value._tag}`
    : Option.isSome(failure)
    ? ""
    : " with an exception"
  return new JwtError({
    reason: "SignerFailed",
    description: `the custom signer failed${tag}. Check the signer (KMS/HSM) credentials, key and availability.`
  })
}

const ServiceProto = {
  toString(this: Service) {
    return `AppAuth(${this.issuer})`
  },
  toJSON(this: Service) {
    return { _id: "AppAuth", issuer: this.issuer }
  },
  [NodeInspectSymbol](this: Service) {
    return `AppAuth(${this.issuer})`
  }
}

/**
 * Validates the options and parses the private key, once; the service then signs without parsing anything.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { AppAuth } from "@effect-github/app"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const auth = yield* AppAuth.make({ appId: 12345, privateKey: Redacted.make(process.env.GITHUB_APP_PRIVATE_KEY!) })
 *   return yield* auth.jwt
 * })
 * ```
 */
export const make = (options: Options): Effect.Effect<Service, PrivateKeyError | JwtError> =>
  Effect.gen(function*() {
    if (typeof options !== "object" || options === null) {
      return yield* invalidOptions("options must be an object such as { appId, privateKey }.")
    }
    const issuer = yield* decodeIssuer(options.appId)
    const expiryMillis = yield* decodeExpiry(options.jwtExpiry ?? defaults.jwtExpiry, "jwtExpiry")
    const issuedAtMillis = yield* decodeMillis(
      options.jwtIssuedAt ?? defaults.jwtIssuedAt,
      "jwtIssuedAt",
      0,
      600,
      "how far before now `iat` is set"
    )
    const algorithm = options.algorithm ?? defaults.algorithm
    const signClaims = yield* makeSigner(options, issuer, algorithm)
    const reuseMargin = Math.min(reuseMarginMillis, expiryMillis / 2)
    // The clock offset and the reused JWT in one Ref, so the fast path reads both at once; signing (and dropping
    // the JWT) hold a lock, so that fibers that queued behind a signature find it fresh and share it.
    const state = yield* Ref.make<State>({ offset: 0, cached: undefined })
    const signing = yield* Effect.makeSemaphore(1)

    // Seconds, floored: a JWT never lives longer than asked, so 600 s stays within GitHub's 10 minutes.
    const expOf = (serverNow: number, lifetime: number) => Math.floor((serverNow + lifetime) / 1000)
    const signAt = (serverNow: number, lifetime: number) =>
      signClaims(Math.floor((serverNow - issuedAtMillis) / 1000), expOf(serverNow, lifetime))

    const reusable = ({ cached, offset }: State, now: number): Cached | undefined => {
      if (cached === undefined) return undefined
      const serverNow = now + offset
      return Math.abs(offset - cached.offset) <= offsetToleranceMillis &&
          serverNow >= cached.signedAt - offsetToleranceMillis &&
          cached.expiresAt - serverNow >= reuseMargin
        ? cached
        : undefined
    }

    const refresh = signing.withPermits(1)(
      Effect.clockWith((clock) =>
        Effect.flatMap(Ref.get(state), (current) => {
          const now = clock.unsafeCurrentTimeMillis()
          const fresh = reusable(current, now)
          if (fresh !== undefined) return Effect.succeed(fresh.jwt)
          const { offset } = current
          const signedAt = now + offset
          return Effect.flatMap(signAt(signedAt, expiryMillis), (jwt) => {
            const cached: Cached = { jwt, signedAt, expiresAt: expOf(signedAt, expiryMillis) * 1000, offset }
            return Effect.as(Ref.update(state, (s) => ({ offset: s.offset, cached })), jwt)
          })
        })
      )
    )

    // The fast path: a Ref read and the clock, no lock, no fiber.
    const jwt = Effect.clockWith((clock) =>
      Effect.flatMap(Ref.get(state), (current) => {
        const fresh = reusable(current, clock.unsafeCurrentTimeMillis())
        return fresh !== undefined ? Effect.succeed(fresh.jwt) : refresh
      })
    )

    const createJwt = (createOptions?: CreateJwtOptions) =>
      Effect.flatMap(
        createOptions?.expiration === undefined
          ? Either.right(expiryMillis)
          : decodeExpiry(createOptions.expiration, "expiration"),
        (lifetime) =>
          Effect.clockWith((clock) =>
            Effect.flatMap(Ref.get(state), ({ offset }) => signAt(clock.unsafeCurrentTimeMillis() + offset, lifetime))
          )
      )

    const observeServerTime = (serverTime: Date): Effect.Effect<void> => {
      const server = Predicate.isDate(serverTime) ? serverTime.getTime() : NaN
      return Number.isFinite(server)
        ? Effect.clockWith((clock) =>
          Ref.update(state, ({ cached }) => ({ offset: server - clock.unsafeCurrentTimeMillis(), cached }))
        )
        : Effect.void
    }

    const service: Service = Object.assign(Object.create(ServiceProto), {
      issuer,
      createJwt,
      jwt,
      invalidate: signing.withPermits(1)(Ref.update(state, (s) => ({ offset: s.offset, cached: undefined }))),
      observeServerTime,
      clockOffset: Effect.map(Ref.get(state), (s) => s.offset)
    })
    // With the app's own key, the first JWT is signed now, while the layer is built: WebCrypto signs only
    // asynchronously, and a request that finds a reusable JWT runs without waiting on it (a fiber driven by
    // TestClock, say, reaches its first sleep without a detour through the runtime's crypto thread). It also
    // proves the imported key signs before anything is sent. A custom signer is called only when asked.
    if (options.sign === undefined) yield* refresh
    return service
  })

const makeSigner = (
  options: Options,
  issuer: string,
  algorithm: string
): Effect.Effect<SignClaims, PrivateKeyError | JwtError> => {
  if (options.sign !== undefined) {
    if (typeof options.sign !== "function") {
      return Effect.fail(invalidOptions("sign must be a function (claims, algorithm) => Effect of the signed JWT."))
    }
    return options.privateKey === undefined
      ? Effect.succeed(externalSigner(options.sign, issuer, algorithm))
      : Effect.fail(
        invalidOptions("give either privateKey or sign, not both: with a custom signer the key stays in it.")
      )
  }
  if (algorithm !== "RS256") {
    return Effect.fail(
      invalidOptions(`algorithm ${algorithm} is not accepted by GitHub, which verifies app JWTs with RS256.`)
    )
  }
  if (options.privateKey === undefined) {
    return Effect.fail(
      new PrivateKeyError({
        problem: "Empty",
        description: "no private key was given. Pass privateKey (the contents of the app's .pem file) or a " +
          "custom sign function."
      })
    )
  }
  const text = Redacted.isRedacted(options.privateKey) ? Redacted.value(options.privateKey) : options.privateKey
  return parsePrivateKey(text).pipe(
    Effect.flatMap(importPrivateKey),
    Effect.map((key) => {
      const signRaw = rs256(key, issuer)
      return (iat: number, exp: number) =>
        Effect.tryPromise({
          try: () => signRaw(iat, exp).then(Redacted.make),
          // WebCrypto failing to sign with a key it imported is not expected; its message is not passed on.
          catch: () =>
            new JwtError({
              reason: "SignerFailed",
              description: "the runtime's WebCrypto could not sign with the imported key."
            })
        })
    })
  )
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<AppAuth, PrivateKeyError | JwtError> =>
  Layer.effect(AppAuth, make(options))

const nonEmptyString = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((value) => value.trim() !== "")))

const appIdConfig = Config.all([nonEmptyString("GITHUB_APP_ID"), nonEmptyString("GITHUB_APP_CLIENT_ID")]).pipe(
  Config.mapOrFail(([appId, clientId]) =>
    Option.match(Option.orElse(appId, () => clientId), {
      onNone: () =>
        Either.left(
          ConfigError.MissingData(
            ["GITHUB_APP_ID"],
            "Set GITHUB_APP_ID to the app's numeric App ID, or GITHUB_APP_CLIENT_ID to its Client ID " +
              "(both on the app's settings page)."
          )
        ),
      onSome: Either.right
    })
  )
)

const privateKeyConfig = Config.all([
  Config.option(Config.redacted("GITHUB_APP_PRIVATE_KEY")).pipe(
    Config.map(Option.filter((key) => Redacted.value(key).trim() !== ""))
  ),
  nonEmptyString("GITHUB_APP_PRIVATE_KEY_FILE")
])

const readPrivateKey = Effect.gen(function*() {
  const [inline, file] = yield* privateKeyConfig
  if (Option.isSome(inline) && Option.isSome(file)) {
    return yield* Effect.fail(
      ConfigError.InvalidData(
        ["GITHUB_APP_PRIVATE_KEY_FILE"],
        "Both GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE are set: keep only one, so it is clear which " +
          "key is used."
      )
    )
  }
  if (Option.isSome(inline)) return inline.value
  if (Option.isNone(file)) {
    return yield* Effect.fail(
      ConfigError.MissingData(
        ["GITHUB_APP_PRIVATE_KEY"],
        "Set GITHUB_APP_PRIVATE_KEY to the contents of the app's .pem file, or GITHUB_APP_PRIVATE_KEY_FILE to its " +
          "path."
      )
    )
  }
  const path = file.value
  const fs = yield* FileSystem.FileSystem
  return yield* fs.readFileString(path).pipe(
    Effect.map(Redacted.make),
    Effect.mapError((error) =>
      new PrivateKeyError({
        problem: "Unreadable",
        description: `the file GITHUB_APP_PRIVATE_KEY_FILE names, ${JSON.stringify(path)}, could not be read (${
          error._tag === "SystemError" ? error.reason : error._tag
        }). Check the path and that this process may read the file.`
      })
    )
  )
})

/**
 * Reads the app's credentials from the environment: `GITHUB_APP_ID` (or `GITHUB_APP_CLIENT_ID`), and
 * `GITHUB_APP_PRIVATE_KEY` (or `GITHUB_APP_PRIVATE_KEY_FILE`, read with the platform's `FileSystem`).
 * `overrides` win over the environment; with `sign`, no key is read.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides: Partial<Options> = {}
): Layer.Layer<AppAuth, ConfigError.ConfigError | PrivateKeyError | JwtError, FileSystem.FileSystem> =>
  Layer.effect(
    AppAuth,
    Effect.gen(function*() {
      const appId = overrides.appId ?? (yield* appIdConfig)
      const privateKey = overrides.privateKey ?? (overrides.sign === undefined ? yield* readPrivateKey : undefined)
      return yield* make({ ...overrides, appId, privateKey })
    })
  )
