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
import * as Zlib from "node:zlib"

/**
 * What the lean client does with bodies.
 *
 * @internal
 */
export interface BodyOptions {
  /** Sends `Accept-Encoding: gzip, br` and decodes such bodies (and deflate). Default true. */
  readonly compression: boolean
  /** A body (compressed or decoded) above this many bytes fails instead of filling memory. */
  readonly maxBodyBytes: number
}

const defaultBodyOptions: BodyOptions = { compression: true, maxBodyBytes: 100 * 1024 * 1024 }

/**
 * The key under which the lean client offers `executeWithin`: HttpRequester (packages/app) looks it up on the
 * `HttpClient` it is given, so that a per-attempt timeout under the live clock is one timer here instead of a
 * forked fiber racing a sleep. A client wrapped by `HttpClient.transform` & co. is a new object without it, and
 * gets the generic timeout.
 */
export const executeWithinKey: unique symbol = Symbol.for("@effect-github/HttpClient/executeWithin") as never

export const make = (
  dispatcher: Undici.Dispatcher,
  bodyOptions: BodyOptions = defaultBodyOptions
): HttpClient.HttpClient => {
  const general = NodeHttpClient.makeUndici(dispatcher)
  const lean = (
    request: HttpClientRequest.HttpClientRequest,
    timeout: { readonly millis: number; readonly onTimeout: () => unknown } | undefined
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> | undefined => {
    const target = split(request)
    const body = request.body
    if (target === undefined || !(body._tag === "Empty" || body._tag === "Uint8Array" || body._tag === "Raw")) {
      return undefined
    }
    return send(
      dispatcher,
      request,
      target,
      body._tag === "Empty" ? null : body.body as string | Uint8Array,
      timeout,
      bodyOptions
    )
  }
  const client = HttpClient.makeWith(
    (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
      Effect.flatMap(effect, (request) => lean(request, undefined) ?? general.execute(request)),
    Effect.succeed
  )
  // Fails with `onTimeout()` when the response (body included) is not complete within `millis` of real time;
  // requests the lean path does not take get the platform client under `Effect.timeoutFail`.
  const executeWithin = <E>(
    request: HttpClientRequest.HttpClientRequest,
    millis: number,
    onTimeout: () => E
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | E> =>
    (lean(request, { millis, onTimeout }) as Effect.Effect<HttpClientResponse.HttpClientResponse, E> | undefined) ??
      Effect.timeoutFail(
        Effect.flatMap(general.execute(request), (response) => Effect.as(response.text, response)),
        { duration: millis, onTimeout }
      )
  return Object.assign(client, { [executeWithinKey]: executeWithin })
}

const headerValue = (value: Buffer | string | Array<Buffer | string>): string | Array<string> =>
  typeof value === "string"
    ? value
    : Array.isArray(value)
    ? value.map((v) => v.toString("latin1"))
    : value.toString("latin1")

/** undici's own `parseHeaders`: lower-cased names, latin1 values, repeated names as arrays. */
const parseHeaders = (raw: ReadonlyArray<Buffer | string | Array<Buffer | string>>) => {
  const out: Record<string, string | Array<string>> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString("latin1").toLowerCase()
    const value = headerValue(raw[i + 1]!)
    const seen = Object.hasOwn(out, name) ? out[name] : undefined
    if (seen === undefined) {
      if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true })
      else out[name] = value
    } else if (typeof seen === "string") out[name] = [seen, ...(typeof value === "string" ? [value] : value)]
    else seen.push(...(typeof value === "string" ? [value] : value))
  }
  return out
}

/**
 * One request on the dispatcher's handler interface: no AbortController, no Readable for the body, no header
 * object built twice; abort comes with `onConnect`.
 */
const send = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  target: { readonly origin: string; readonly path: string },
  body: string | Uint8Array | null,
  timeout: { readonly millis: number; readonly onTimeout: () => unknown } | undefined,
  bodyOptions: BodyOptions
) =>
  Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
    let done = false
    let abort: ((reason?: Error) => void) | undefined
    let aborted: Error | undefined
    let status = 0
    let headers: Record<string, string | Array<string>> = {}
    const chunks: Array<Buffer> = []
    let received = 0
    const finish = (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => {
      if (done) return
      done = true
      if (timer !== undefined) clearTimeout(timer)
      resume(effect)
    }
    const cancel = (reason: Error) => {
      aborted = reason
      abort?.(reason)
    }
    const timer = timeout === undefined ? undefined : setTimeout(() => {
      finish(Effect.fail(timeout.onTimeout() as HttpClientError.HttpClientError))
      cancel(new Error("timed out"))
    }, timeout.millis)
    const handler: Undici.Dispatcher.DispatchHandler = {
      onConnect: (abortRequest) => {
        if (aborted !== undefined) abortRequest(aborted)
        else abort = abortRequest
      },
      onHeaders: (statusCode, rawHeaders) => {
        // 1xx (100 Continue, 103 Early Hints) come before the response: undici's request API skips them too
        if (statusCode < 200) return true
        status = statusCode
        headers = parseHeaders(rawHeaders as unknown as ReadonlyArray<Buffer>)
        return true
      },
      onData: (chunk) => {
        received += chunk.length
        if (received > bodyOptions.maxBodyBytes) {
          finish(Effect.fail(bodyError(request, status, headers, tooLarge(bodyOptions.maxBodyBytes))))
          cancel(new Error("response body too large"))
          return false
        }
        chunks.push(chunk)
        return true
      },
      onComplete: () => {
        const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
        const decoded = decode(raw, headers, bodyOptions)
        if (decoded instanceof Error) return finish(Effect.fail(bodyError(request, status, headers, decoded)))
        finish(Effect.succeed(new LeanResponse(request, status, decoded.headers, decoded.body.toString("utf8"))))
      },
      onError: (cause) => {
        if (status === 0) {
          return finish(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
        }
        const response = new LeanResponse(request, status, headers, "")
        finish(Effect.fail(new HttpClientError.ResponseError({ request, response, reason: "Decode", cause })))
      }
    }
    try {
      dispatcher.dispatch({
        origin: target.origin,
        path: target.path,
        method: request.method,
        headers: bodyOptions.compression && request.headers["accept-encoding"] === undefined
          ? { ...request.headers, "accept-encoding": "gzip, br" }
          : request.headers,
        body,
        // timeouts belong to the caller (HttpRequester's per-attempt timeout)
        headersTimeout: 0,
        bodyTimeout: 0
      }, handler)
    } catch (cause) {
      finish(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
    }
    return Effect.sync(() => {
      done = true
      if (timer !== undefined) clearTimeout(timer)
      cancel(new Error("interrupted"))
    })
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

const tooLarge = (max: number) =>
  Object.assign(new Error(`the response body is larger than ${max} bytes (maxBodyBytes)`), {
    code: "EGH_BODY_TOO_LARGE"
  })

const bodyError = (
  request: HttpClientRequest.HttpClientRequest,
  status: number,
  headers: Record<string, string | Array<string>>,
  cause: Error
) =>
  new HttpClientError.ResponseError({
    request,
    response: new LeanResponse(request, status, headers, ""),
    reason: "Decode",
    cause
  })

/** The body with its `content-encoding` undone (and the header gone), or why it could not be. */
const decode = (
  raw: Buffer,
  headers: Record<string, string | Array<string>>,
  options: BodyOptions
): { readonly body: Buffer; readonly headers: Record<string, string | Array<string>> } | Error => {
  const encoding = headers["content-encoding"]
  if (encoding === undefined || raw.length === 0) return { body: raw, headers }
  const name = (Array.isArray(encoding) ? encoding.join(",") : encoding).trim().toLowerCase()
  if (name === "identity" || name === "") return { body: raw, headers }
  const limit = { maxOutputLength: options.maxBodyBytes }
  try {
    const body = name === "gzip" || name === "x-gzip"
      ? Zlib.gunzipSync(raw, limit)
      : name === "br"
      ? Zlib.brotliDecompressSync(raw, limit)
      : name === "deflate"
      ? Zlib.inflateSync(raw, limit)
      : undefined
    if (body === undefined) return new Error(`the response has a content-encoding it cannot decode: ${name}`)
    const { "content-encoding": _encoding, "content-length": _length, ...rest } = headers
    return { body, headers: rest }
  } catch (cause) {
    const code = (cause as { code?: unknown }).code
    return code === "ERR_BUFFER_TOO_LARGE"
      ? tooLarge(options.maxBodyBytes)
      : new Error(`the ${name} body does not decode: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
}
