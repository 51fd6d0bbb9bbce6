/**
 * A fake `HttpClient` for HttpRequester tests: records every request (with the Clock time it started) and
 * answers with what the test says.
 */
import * as HttpRequester from "@effect-github/app/HttpRequester"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

export interface Seen {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
  readonly at: number
}

export type Respond = (
  request: Seen,
  n: number,
  original: HttpClientRequest.HttpClientRequest
) => Response | Effect.Effect<Response, HttpClientError.HttpClientError>

export const fake = (respond: Respond) => {
  const seen: Array<Seen> = []
  const client = HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : undefined
      const entry: Seen = { method: request.method, url, headers: { ...request.headers }, body, at }
      seen.push(entry)
      const answer = respond(entry, seen.length, request)
      const response = Effect.isEffect(answer) ? yield* answer : answer
      return HttpClientResponse.fromWeb(request, response)
    })
  )
  return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

export const json = (
  body: unknown,
  init: { readonly status?: number; readonly headers?: Record<string, string> } = {}
): Response => {
  const status = init.status ?? 200
  return new Response(status === 204 || status === 304 ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...init.headers }
  })
}

/** No spacing unless a test asks for it: most tests are about something else. */
export const unspaced: HttpRequester.Options = { secondsBetweenRequests: 0, secondsBetweenWrites: 0 }

export const requester = (fakeClient: ReturnType<typeof fake>, options: HttpRequester.Options = {}) =>
  Effect.provide(HttpRequester.make({ ...unspaced, ...options }), fakeClient.layer)

export const tokenCredentials = (
  token: string,
  extra: Partial<HttpRequester.Credentials> = {}
): HttpRequester.Credentials => ({
  identity: `token:${token}`,
  authorization: () => Effect.succeed(Redacted.make(`token ${token}`)),
  shouldRefresh: () => false,
  ...extra
})

/** What undici reports when nothing listens on the port. */
export const connectionRefused = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.fail(
    new HttpClientError.RequestError({
      request,
      reason: "Transport",
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })
    })
  )

/** `date` header for a TestClock time. */
export const httpDate = (millis: number): string => new Date(millis).toUTCString()
