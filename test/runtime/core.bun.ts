/**
 * The core on a second runtime: run by Bun (`test/runtime/bun.ts` starts it), it imports @effect-github/app from its
 * sources, talks to the simulator over loopback HTTP with @effect/platform's FetchHttpClient (no Node transport),
 * and checks app JWTs (signed by jose on Bun's WebCrypto, PKCS#1 and PKCS#8), installations, the token cache and
 * the typed key errors. Prints one line per check and `N passed, M failed`; exits 1 on any failure.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { importSPKI, jwtVerify } from "jose"
import * as AppAuth from "../../packages/app/src/AppAuth.js"
import * as Integration from "../../packages/app/src/Integration.js"

/** What the Node side hands over: the simulator's URL and its app (test keys, made for this run). */
interface World {
  readonly url: string
  readonly appId: number
  readonly pkcs1: string
  readonly pkcs8: string
  readonly ecKey: string
  readonly publicKey: string
  readonly installationIds: ReadonlyArray<number>
  readonly repository: { readonly owner: string; readonly repo: string; readonly installationId: number }
}

const world = JSON.parse(process.env.EFFECT_GITHUB_RUNTIME_WORLD ?? "null") as World | null
if (world === null) throw new Error("run by test/runtime/bun.ts, which sets EFFECT_GITHUB_RUNTIME_WORLD")

const check = (condition: boolean, what: string) => condition ? Effect.void : Effect.dieMessage(`expected ${what}`)

const github = (privateKey: string) =>
  Integration.layerApp({
    appId: world.appId,
    privateKey: Redacted.make(privateKey),
    baseUrl: world.url,
    perPage: 2,
    secondsBetweenRequests: 0,
    secondsBetweenWrites: 0
  }).pipe(Layer.provide(FetchHttpClient.layer))

const checks: ReadonlyArray<readonly [string, Effect.Effect<void, unknown>]> = [
  [
    "an app JWT from a PKCS#1 key (as GitHub issues it) verifies with the app's public key",
    Effect.gen(function*() {
      const auth = yield* AppAuth.make({ appId: world.appId, privateKey: world.pkcs1 })
      const jwt = Redacted.value(yield* auth.jwt)
      const key = yield* Effect.promise(() => importSPKI(world.publicKey, "RS256"))
      const { payload, protectedHeader } = yield* Effect.promise(() => jwtVerify(jwt, key))
      yield* check(protectedHeader.alg === "RS256" && protectedHeader.typ === "JWT", "an RS256 JWT header")
      yield* check(payload.iss === String(world.appId), `iss ${world.appId}, got ${payload.iss}`)
      yield* check(payload.exp! - payload.iat! === 360, "PyGithub's claims: iat now - 60 s, exp now + 300 s")
      yield* check(Redacted.value(yield* auth.jwt) === jwt, "the JWT reused")
    })
  ],
  [
    "a PKCS#8 key signs the same way",
    Effect.gen(function*() {
      const auth = yield* AppAuth.make({ appId: world.appId, privateKey: world.pkcs8 })
      const key = yield* Effect.promise(() => importSPKI(world.publicKey, "RS256"))
      const jwt = Redacted.value(yield* auth.createJwt())
      yield* Effect.promise(() => jwtVerify(jwt, key))
    })
  ],
  [
    "bad keys are typed PrivateKeyErrors (EC key, undefined, a number), not TypeErrors",
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [world.ecKey, "NotRsa"],
        [undefined, "Empty"],
        [Redacted.make(undefined), "Empty"],
        [42, "Unparseable"]
      ]
      for (const [privateKey, problem] of cases) {
        const exit = yield* Effect.exit(AppAuth.make({ appId: 1, privateKey } as unknown as AppAuth.Options))
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        yield* check(
          error?._tag === "PrivateKeyError" && error.problem === problem,
          `PrivateKeyError ${problem}, got ${Exit.isFailure(exit) ? exit.cause._tag : "success"}`
        )
      }
    })
  ],
  [
    "getApp, the installations (paginated, 2 per page), a repository's installation",
    Effect.gen(function*() {
      const integration = yield* Integration.Integration
      const app = yield* integration.getApp()
      yield* check(app.id === world.appId, `the app ${world.appId}, got ${app.id}`)
      const ids = yield* Stream.runCollect(Stream.map(integration.getInstallations(), (i) => i.id))
      yield* check(
        JSON.stringify(Array.from(ids)) === JSON.stringify(world.installationIds),
        `installations ${world.installationIds}, got ${Array.from(ids)}`
      )
      const installation = yield* integration.getRepoInstallation(world.repository.owner, world.repository.repo)
      yield* check(installation.id === world.repository.installationId, "the repository's installation")
    }).pipe(Effect.provide(github(world.pkcs1)))
  ],
  [
    "an installation token, minted once and then served from the cache, narrowed to one repository",
    Effect.gen(function*() {
      const integration = yield* Integration.Integration
      const id = world.installationIds[0]!
      const [first, second] = yield* Effect.all([integration.getAccessToken(id), integration.getAccessToken(id)], {
        concurrency: "unbounded"
      })
      yield* check(Redacted.value(first.token).startsWith("ghs_"), "a ghs_ token")
      yield* check(Redacted.value(first.token) === Redacted.value(second.token), "one token for both callers")
      yield* check(String(first.token) === "<redacted>", "the token Redacted")
      const again = yield* integration.getAccessToken(id)
      yield* check(Redacted.value(again.token) === Redacted.value(first.token), "the cached token")
      const narrowed = yield* integration.getAccessToken(world.repository.installationId, {
        repositories: [world.repository.repo],
        permissions: { contents: "read" }
      })
      yield* check(narrowed.repositories?.length === 1, "a token for one repository")
    }).pipe(Effect.provide(github(world.pkcs8)))
  ]
]

const main = Effect.gen(function*() {
  let passed = 0
  let failed = 0
  for (const [name, effect] of checks) {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) {
      passed++
      console.log(`  ok   ${name}`)
    } else {
      failed++
      console.log(`  FAIL ${name}\n${String(exit.cause).replace(/^/gm, "       ")}`)
    }
  }
  return { passed, failed }
})

const { failed, passed } = await Effect.runPromise(main)
const runtime = typeof Bun === "undefined" ? `node ${process.version}` : `bun ${Bun.version}`
console.log(`core on ${runtime}: ${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 && passed === checks.length ? 0 : 1

declare const Bun: { readonly version: string } | undefined
