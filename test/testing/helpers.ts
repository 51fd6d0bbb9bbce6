/**
 * Test helpers for the simulator: the two transports (in-process, real loopback HTTP via undici), raw requests,
 * and app JWTs signed with jose directly (no dependency on @effect-github/app).
 */
import { GithubSimulator } from "@effect-github/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type { HttpClientError } from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { SignJWT } from "jose"
import * as Crypto from "node:crypto"

export interface Transport {
  readonly client: HttpClient.HttpClient
  readonly baseUrl: string
}

export interface Mode {
  readonly name: "in-process" | "server"
  readonly transport: (simulator: GithubSimulator.Simulator) => Effect.Effect<Transport, never, Scope.Scope>
}

export const modes: ReadonlyArray<Mode> = [
  {
    name: "in-process",
    transport: (simulator) => Effect.succeed({ client: simulator.client, baseUrl: simulator.baseUrl })
  },
  {
    name: "server",
    transport: (simulator) =>
      Effect.gen(function*() {
        const { url } = yield* simulator.server
        const dispatcher = yield* NodeHttpClient.makeDispatcher
        return { client: NodeHttpClient.makeUndici(dispatcher), baseUrl: url }
      })
  }
]

export const setup = (mode: Mode, options?: GithubSimulator.Options) =>
  Effect.gen(function*() {
    const sim = yield* GithubSimulator.make(options)
    const transport = yield* mode.transport(sim)
    return { sim, t: transport }
  })

export interface Reply {
  readonly status: number
  readonly headers: Headers.Headers
  readonly text: string
  readonly json: any
}

export const call = (
  t: Transport,
  method: "GET" | "POST" | "DELETE",
  path: string,
  options: { readonly auth?: string | undefined; readonly body?: unknown; readonly rawBody?: string } = {}
): Effect.Effect<Reply, HttpClientError> =>
  Effect.gen(function*() {
    let request = HttpClientRequest.make(method)(t.baseUrl + path)
    if (options.auth !== undefined) request = HttpClientRequest.setHeader(request, "authorization", options.auth)
    if (options.body !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, options.body)
    if (options.rawBody !== undefined) {
      request = HttpClientRequest.bodyText(request, options.rawBody, "application/json")
    }
    const response = yield* t.client.execute(request)
    const text = yield* response.text
    let json: unknown
    try {
      json = text === "" ? undefined : JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, headers: response.headers, text, json }
  })

const keys = new Map<string, Crypto.KeyObject>()
const keyOf = (pem: string) => {
  let key = keys.get(pem)
  if (key === undefined) {
    key = Crypto.createPrivateKey(pem)
    keys.set(pem, key)
  }
  return key
}

/** A key pair GitHub does not know, for bad-signature tests. */
export const strangerKey = Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey

/** Signs an app JWT the way clients do (iat now-60, exp now+540 by the caller's Clock) unless told otherwise. */
export const jwt = (
  sim: GithubSimulator.Simulator,
  claims: {
    readonly iat?: number
    readonly exp?: number
    readonly iss?: string | number
    readonly key?: Crypto.KeyObject
  } = {}
): Effect.Effect<string> =>
  Effect.flatMap(Clock.currentTimeMillis, (millis) => {
    const now = Math.floor(millis / 1000)
    const payload = { iat: claims.iat ?? now - 60, exp: claims.exp ?? now + 540, iss: claims.iss ?? sim.app.id }
    return Effect.promise(() =>
      new SignJWT(payload as any).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(
        claims.key ?? keyOf(Redacted.value(sim.app.privateKey))
      )
    )
  })

export const bearer = (sim: GithubSimulator.Simulator) => Effect.map(jwt(sim), (token) => `Bearer ${token}`)

/** Mints an installation token over the transport and returns its `token` header value and body. */
export const mint = (t: Transport, sim: GithubSimulator.Simulator, installationId: number, body?: unknown) =>
  Effect.gen(function*() {
    const reply = yield* call(t, "POST", `/app/installations/${installationId}/access_tokens`, {
      auth: yield* bearer(sim),
      body: body ?? {}
    })
    if (reply.status !== 201) return yield* Effect.dieMessage(`mint failed: ${reply.status} ${reply.text}`)
    return { auth: `token ${reply.json.token as string}`, json: reply.json }
  })
