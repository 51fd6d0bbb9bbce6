/**
 * A lean `HttpClient` on an undici dispatcher for the requests GitHub's REST API takes (bodies that are empty,
 * bytes or text): one `dispatcher.request`, the whole body read into a string, and a response whose `text` and
 * `json` are already there. The platform's general client (URL parsing, a finalization registry, a cached
 * `runSync` per body) costs about three times the request itself on loopback; anything this one does not
 * handle (streams, forms) goes to it.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Undici from "@effect/platform-node/Undici"
import type * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient => {
  const general = NodeHttpClient.makeUndici(dispatcher)
  return HttpClient.makeWith(
    (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
      Effect.flatMap(effect, (request): Effect.Effect<
        HttpClientResponse.HttpClientResponse,
        HttpClientError.HttpClientError
      > => {
        const target = split(request)
        const body = request.body
        if (target === undefined || !(body._tag === "Empty" || body._tag === "Uint8Array" || body._tag === "Raw")) {
          return general.execute(request)
        }
        return send(dispatcher, request, target, body._tag === "Empty" ? null : body.body as string | Uint8Array)
      }),
    Effect.succeed
  )
}

const send = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  target: { readonly origin: string; readonly path: string },
  body: string | Uint8Array | null
) =>
  Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
    const controller = new AbortController()
    dispatcher.request({
      origin: target.origin,
      path: target.path,
      method: request.method,
      headers: request.headers,
      body,
      signal: controller.signal,
      // timeouts belong to the caller (HttpRequester's per-attempt timeout)
      headersTimeout: 0,
      bodyTimeout: 0
    }, (error, data) => {
      if (error !== null) {
        return resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: error })))
      }
      const chunks: Array<Buffer> = []
      data.body.on("data", (chunk: Buffer) => chunks.push(chunk))
      data.body.on("error", (cause) => {
        const response = new LeanResponse(request, data.statusCode, data.headers, "")
        resume(Effect.fail(new HttpClientError.ResponseError({ request, response, reason: "Decode", cause })))
      })
      data.body.on("end", () => {
        const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")
        resume(Effect.succeed(new LeanResponse(request, data.statusCode, data.headers, text)))
      })
    })
    return Effect.sync(() => controller.abort())
  })

/** Origin and path of a request, or undefined when it needs the general client's URL handling. */
const split = (
  request: HttpClientRequest.HttpClientRequest
): { readonly origin: string; readonly path: string } | undefined => {
  const url = request.url
  const start = url.startsWith("https://") ? 8 : url.startsWith("http://") ? 7 : -1
  if (start < 0 || request.hash._tag === "Some") return undefined
  const slash = url.indexOf("/", start)
  const origin = slash < 0 ? url : url.slice(0, slash)
  let path = slash < 0 ? "/" : url.slice(slash)
  if (request.urlParams.length > 0) {
    const query = UrlParams.toString(request.urlParams)
    path += (path.includes("?") ? "&" : "?") + query
  }
  return { origin, path }
}

const toHeaders = (source: Record<string, string | Array<string> | undefined>): Headers.Headers => {
  for (const name in source) {
    if (typeof source[name] !== "string") return Headers.fromInput(source as Record<string, string | Array<string>>)
  }
  // undici already lower-cases names and gives single values as strings
  return source as unknown as Headers.Headers
}

class LeanResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly headers: Headers.Headers
  readonly text: Effect.Effect<string, HttpClientError.ResponseError>

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly status: number,
    headers: Record<string, string | Array<string> | undefined>,
    private readonly body: string
  ) {
    super()
    this.headers = toHeaders(headers)
    this.text = Effect.succeed(body)
  }

  get cookies(): Cookies.Cookies {
    return HttpClientResponse.fromWeb(this.request, new Response(null, { headers: this.headers })).cookies
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.try({
      try: () => this.body === "" ? null : JSON.parse(this.body) as unknown,
      catch: (cause) => this.decodeError(cause)
    })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.try({
      try: () => UrlParams.fromInput(new URLSearchParams(this.body)),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.sync(() => new TextEncoder().encode(this.body).buffer as ArrayBuffer)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.tryPromise({
      try: () => new Response(this.body, { headers: this.headers }).formData(),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.succeed(new TextEncoder().encode(this.body))
  }

  toJSON(): unknown {
    return IncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}
