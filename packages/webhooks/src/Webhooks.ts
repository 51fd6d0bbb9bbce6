/**
 * The webhook receiver: verifies a delivery over its raw bytes, decodes it, remembers its id, answers 2xx at
 * once and runs the handlers registered for its event in supervised fibers of the layer's scope.
 *
 * @example
 * ```ts
 * import { Webhooks } from "@effect-github/webhooks"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const program = Effect.gen(function*() {
 *   const webhooks = yield* Webhooks.Webhooks
 *   yield* webhooks.on("issues.opened", (event) =>
 *     Effect.log(`#${event.payload.issue.number} opened in ${event.payload.repository.full_name}`))
 *   return webhooks.httpApp // serve it, e.g. with NodeWebhooks.serve from @effect-github/node
 * }).pipe(Effect.provide(Webhooks.layer({ secret: Redacted.make("webhook secret") })))
 * ```
 *
 * @since 0.1.0
 */
import * as Integration from "@effect-github/app/Integration"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as DeliveryStore from "./DeliveryStore.js"
import * as Verify from "./Verify.js"
import {
  WebhookHeaderMissing,
  WebhookPayloadInvalid,
  WebhookPayloadTooLarge,
  WebhookReceiverClosed,
  WebhookUnsupportedMediaType
} from "./WebhookError.js"
import type { ReceiveError } from "./WebhookError.js"
import * as WebhookEvent from "./WebhookEvent.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The webhook secret, or several during a rotation, newest first. */
  readonly secret: Redacted.Redacted<string> | ReadonlyArray<Redacted.Redacted<string>>
  /** Accept deliveries signed only with SHA-1 (`X-Hub-Signature`); default false. */
  readonly allowSha1?: boolean | undefined
  /** The largest body accepted, in bytes; default GitHub's 25 MB. */
  readonly maxBodyBytes?: number | undefined
  /** Accept `application/x-www-form-urlencoded` bodies (`payload=<json>`), as GitHub sends them when so set. */
  readonly formEncoded?: boolean | undefined
  /** How long a delivery id is remembered; default 3 days (GitHub redelivers deliveries up to 3 days old). */
  readonly dedupeTtl?: Duration.DurationInput | undefined
  /** How long closing the scope waits for running handlers before interrupting them; default 10 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /** Told of every handler that fails or dies; default an error log line with the delivery id. */
  readonly onHandlerFailure?: ((failure: HandlerFailure) => Effect.Effect<void>) | undefined
}

/**
 * A handler that failed, died or was interrupted.
 *
 * @since 0.1.0
 * @category models
 */
export interface HandlerFailure {
  readonly deliveryId: string
  readonly name: string
  readonly action: string | undefined
  /** What the handler was registered for: `"issues.opened"`, `"issues"` or `"*"`. */
  readonly handler: string
  readonly cause: Cause.Cause<unknown>
}

/**
 * A delivery as it arrived: headers (any case) and the raw body bytes.
 *
 * @since 0.1.0
 * @category models
 */
export interface IncomingDelivery {
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly body: Uint8Array
}

/**
 * What `receive` answers once a delivery is verified and recorded; its handlers may still be running.
 *
 * @since 0.1.0
 * @category models
 */
export interface Receipt {
  readonly deliveryId: string
  readonly name: string
  readonly action: string | undefined
  /** The id was seen before: no handler runs. */
  readonly duplicate: boolean
  /** How many handlers were started. */
  readonly handlers: number
  /** Completes when every handler of the delivery has ended (at once for a duplicate). */
  readonly done: Effect.Effect<void>
}

/**
 * A handler: any effect; its failure is reported, never propagated.
 *
 * @since 0.1.0
 * @category models
 */
export type Handler<E, R> = (event: E) => Effect.Effect<unknown, unknown, R>

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Registers a handler for an event (`"issues"`) or an event and action (`"issues.opened"`). */
  readonly on: <N extends WebhookEvent.Name, R = never>(
    name: N,
    handler: Handler<WebhookEvent.Event<N>, R>
  ) => Effect.Effect<void, never, R>
  /** Registers a handler for every delivery, including events and actions the schemas do not know. */
  readonly onAny: <R = never>(handler: Handler<WebhookEvent.AnyEvent, R>) => Effect.Effect<void, never, R>
  /**
   * Verifies, decodes and records a delivery, starts its handlers and returns without waiting for them.
   */
  readonly receive: (delivery: IncomingDelivery) => Effect.Effect<Receipt, ReceiveError>
  /**
   * The HTTP endpoint: `POST` only (405 otherwise); 400 missing headers or unusable payload, 401 bad signature,
   * 413 over the cap, 415 not JSON, 503 while closing or when the dedupe store fails; 202 once accepted, 200 for
   * a duplicate.
   */
  readonly httpApp: HttpApp.Default
  /** A router serving `httpApp` at `path` (default `/`). */
  readonly router: (path?: HttpRouter.PathInput) => HttpRouter.HttpRouter
  /** The same endpoint for fetch-style runtimes: a Web `Request` in, a `Response` out. */
  readonly fetch: (request: Request) => Promise<Response>
  /** Handler fibers running now. */
  readonly running: Effect.Effect<number>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Webhooks extends Context.Tag("@effect-github/webhooks/Webhooks")<Webhooks, Service>() {}

interface Registered {
  readonly key: string
  readonly run: (event: any) => Effect.Effect<unknown, unknown>
}

const headerOf = (headers: IncomingDelivery["headers"], name: string): string | undefined => {
  let value = headers[name]
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        value = headers[key]
        break
      }
    }
  }
  const text = typeof value === "string" ? value : value?.[0]
  return text === undefined || text.trim() === "" ? undefined : text.trim()
}

const mediaTypeOf = (contentType: string | undefined): string | undefined =>
  contentType?.split(";")[0]!.trim().toLowerCase()

const isJson = (mediaType: string | undefined): boolean =>
  mediaType === "application/json" || (mediaType?.startsWith("application/") === true && mediaType.endsWith("+json"))

const FORM = "application/x-www-form-urlencoded"

const decoder = new TextDecoder("utf-8", { fatal: true })

const installationIdOf = (payload: unknown): number | undefined => {
  const installation = payload !== null && typeof payload === "object" ? (payload as any).installation : undefined
  const id = installation !== null && typeof installation === "object" ? installation.id : undefined
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined
}

interface Reply {
  readonly status: number
  readonly headers?: Record<string, string> | undefined
  readonly body: unknown
}

const errorReply = (error: ReceiveError): Reply => ({
  status: error.status,
  body: { error: error._tag, message: error.message }
})

const receiptReply = (receipt: Receipt): Reply => ({
  status: receipt.duplicate ? 200 : 202,
  body: { ok: true, deliveryId: receipt.deliveryId, duplicate: receipt.duplicate }
})

/**
 * Builds the receiver in a scope: the handlers' fibers belong to it, and closing it waits for them (up to
 * `shutdownTimeout`). Uses the `DeliveryStore` in context, or an in-memory one; and the `Integration` in
 * context, when there is one, for `event.installation`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const verifier = yield* Verify.make({
      secrets: options.secret,
      allowSha1: options.allowSha1,
      maxBodyBytes: options.maxBodyBytes
    })
    const store = Option.getOrElse(yield* Effect.serviceOption(DeliveryStore.DeliveryStore), () =>
      DeliveryStore.makeMemory())
    const integration = yield* Effect.serviceOption(Integration.Integration)
    const ttl = Duration.decode(options.dedupeTtl ?? "3 days")
    const shutdownTimeout = Duration.decode(options.shutdownTimeout ?? "10 seconds")
    const formEncoded = options.formEncoded === true
    const report = options.onHandlerFailure ?? ((failure: HandlerFailure) =>
      Effect.logError("webhook handler failed", failure.cause).pipe(
        Effect.annotateLogs({
          deliveryId: failure.deliveryId,
          event: failure.action === undefined ? failure.name : `${failure.name}.${failure.action}`,
          handler: failure.handler
        })
      ))
    const runtime = yield* Effect.runtime<never>()
    const fibers = yield* FiberSet.make<void, never>()
    let closing = false
    // Runs before the FiberSet's own finalizer (which interrupts what is left): running handlers get to finish.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closing = true
        // Finalizers run uninterruptibly: the wait is made interruptible so the timeout can end it.
        return Effect.interruptible(FiberSet.awaitEmpty(fibers)).pipe(
          Effect.timeoutOption(shutdownTimeout),
          Effect.asVoid
        )
      })
    )

    const handlers = new Map<string, Array<Registered>>()
    const register = (key: string, handler: Handler<any, any>) =>
      Effect.map(Effect.context<any>(), (context) => {
        const list = handlers.get(key) ?? []
        list.push({
          key,
          run: (event) =>
            Effect.provide(
              Effect.suspend(() =>
                handler(event)
              ),
              context
            )
        })
        handlers.set(key, list)
      })

    const installationOf = (id: number | undefined) =>
      id === undefined || Option.isNone(integration)
        ? Effect.succeed(undefined)
        : Effect.orElseSucceed(integration.value.installation(id), () => undefined)

    const receive = (delivery: IncomingDelivery): Effect.Effect<Receipt, ReceiveError> =>
      Effect.gen(function*() {
        if (closing) return yield* new WebhookReceiverClosed()
        const name = headerOf(delivery.headers, "x-github-event")
        if (name === undefined) return yield* new WebhookHeaderMissing({ header: "X-GitHub-Event" })
        const deliveryId = headerOf(delivery.headers, "x-github-delivery")
        if (deliveryId === undefined) return yield* new WebhookHeaderMissing({ header: "X-GitHub-Delivery" })
        const contentType = headerOf(delivery.headers, "content-type")
        const mediaType = mediaTypeOf(contentType)
        const form = mediaType === FORM
        if (!isJson(mediaType) && !(form && formEncoded)) {
          return yield* new WebhookUnsupportedMediaType({ contentType, deliveryId })
        }
        yield* verifier.verify(delivery.body, {
          signature256: headerOf(delivery.headers, "x-hub-signature-256"),
          signature1: headerOf(delivery.headers, "x-hub-signature"),
          deliveryId
        })
        const payload = yield* parsePayload(delivery.body, form, deliveryId)
        const decoded = yield* WebhookEvent.decode(name, payload, deliveryId)
        const first = yield* store.claim(deliveryId, ttl)
        if (!first) {
          return { deliveryId, name, action: decoded.action, duplicate: true, handlers: 0, done: Effect.void }
        }
        const installationId = installationIdOf(payload)
        const installation = yield* installationOf(installationId)
        const event = {
          _tag: decoded._tag,
          name,
          action: decoded.action,
          payload: decoded.payload,
          deliveryId,
          hookId: headerOf(delivery.headers, "x-github-hook-id"),
          installation,
          installationId
        }
        const selected: Array<Registered> = [
          ...(decoded._tag === "Known" && decoded.action !== undefined
            ? handlers.get(`${name}.${decoded.action}`) ?? []
            : []),
          ...(decoded._tag === "Known" ? handlers.get(name) ?? [] : []),
          ...(handlers.get("*") ?? [])
        ]
        const done = yield* Deferred.make<void>()
        if (selected.length === 0) {
          yield* Deferred.succeed(done, undefined)
        } else {
          const runAll = Effect.forEach(
            selected,
            (registered) =>
              registered.run(event).pipe(
                Effect.catchAllCause((cause) =>
                  report({ deliveryId, name, action: decoded.action, handler: registered.key, cause })
                )
              ),
            { concurrency: "unbounded", discard: true }
          ).pipe(Effect.ensuring(Deferred.succeed(done, undefined)))
          yield* FiberSet.run(fibers, runAll)
        }
        return {
          deliveryId,
          name,
          action: decoded.action,
          duplicate: false,
          handlers: selected.length,
          done: Deferred.await(done)
        }
      })

    const answer = (delivery: Effect.Effect<IncomingDelivery, ReceiveError>): Effect.Effect<Reply> =>
      delivery.pipe(
        Effect.flatMap(receive),
        Effect.match({ onFailure: errorReply, onSuccess: receiptReply })
      )

    const tooLarge = (headers: IncomingDelivery["headers"]): WebhookPayloadTooLarge | undefined => {
      const length = headerOf(headers, "content-length")
      return length !== undefined && Number(length) > verifier.maxBodyBytes
        ? new WebhookPayloadTooLarge({
          limit: verifier.maxBodyBytes,
          deliveryId: headerOf(headers, "x-github-delivery")
        })
        : undefined
    }

    const httpApp: HttpApp.Default = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (request.method !== "POST") {
        return HttpServerResponse.unsafeJson(
          { error: "MethodNotAllowed", message: "Webhook deliveries are POST requests." },
          { status: 405, headers: { allow: "POST" } }
        )
      }
      const headers = request.headers
      const refused = tooLarge(headers)
      const reply = yield* answer(
        refused !== undefined ? Effect.fail(refused) : Effect.map(
          readCapped(
            Stream.catchAll(request.stream, () => Stream.empty),
            verifier.maxBodyBytes,
            headerOf(headers, "x-github-delivery")
          ),
          (body): IncomingDelivery => ({ headers, body })
        )
      )
      return HttpServerResponse.unsafeJson(reply.body, { status: reply.status, headers: reply.headers })
    })

    const fetch = (request: Request): Promise<Response> => {
      const headers: Record<string, string> = {}
      request.headers.forEach((value, key) => {
        headers[key] = value
      })
      const respond = (reply: Reply) =>
        new Response(JSON.stringify(reply.body), {
          status: reply.status,
          headers: { "content-type": "application/json", ...reply.headers }
        })
      if (request.method !== "POST") {
        return Promise.resolve(respond({
          status: 405,
          headers: { allow: "POST" },
          body: { error: "MethodNotAllowed", message: "Webhook deliveries are POST requests." }
        }))
      }
      const refused = tooLarge(headers)
      const body = refused !== undefined
        ? Effect.fail(refused)
        : readCapped(
          request.body === null
            ? Stream.empty
            : Stream.fromReadableStream({ evaluate: () => request.body!, onError: (error) => error }).pipe(
              Stream.catchAll(() => Stream.empty)
            ),
          verifier.maxBodyBytes,
          headers["x-github-delivery"]
        )
      return Runtime.runPromise(runtime)(
        Effect.map(answer(Effect.map(body, (body) => ({ headers, body }))), respond)
      )
    }

    return {
      on: (name, handler) => register(name, handler),
      onAny: (handler) => register("*", handler),
      receive,
      httpApp,
      router: (path = "/") => HttpRouter.empty.pipe(HttpRouter.all(path, httpApp)),
      fetch,
      running: FiberSet.size(fibers)
    }
  })

const parsePayload = (
  body: Uint8Array,
  form: boolean,
  deliveryId: string
): Effect.Effect<unknown, WebhookPayloadInvalid> =>
  Effect.try({
    try: () => {
      const text = decoder.decode(body)
      if (!form) return JSON.parse(text) as unknown
      const payload = new URLSearchParams(text).get("payload")
      if (payload === null) throw new Error("the form body has no payload field")
      return JSON.parse(payload) as unknown
    },
    catch: (error) =>
      new WebhookPayloadInvalid({
        reason: error instanceof Error && error.message.startsWith("the form") ? error.message : "not valid JSON",
        deliveryId
      })
  })

const readCapped = <E>(
  stream: Stream.Stream<Uint8Array, E>,
  limit: number,
  deliveryId: string | undefined
): Effect.Effect<Uint8Array, WebhookPayloadTooLarge | E> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let total = 0
    return Stream.runForEach(stream, (chunk) => {
      total += chunk.length
      if (total > limit) return Effect.fail(new WebhookPayloadTooLarge({ limit, deliveryId }))
      chunks.push(chunk)
      return Effect.void
    }).pipe(Effect.map(() => {
      if (chunks.length === 1) return chunks[0]!
      const out = new Uint8Array(total)
      let offset = 0
      for (const chunk of chunks) {
        out.set(chunk, offset)
        offset += chunk.length
      }
      return out
    }))
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Webhooks> => Layer.scoped(Webhooks, make(options))

/**
 * Reads the secret from `GITHUB_WEBHOOK_SECRET` (and, during a rotation, the previous one from
 * `GITHUB_WEBHOOK_SECRET_PREVIOUS`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<Options, "secret"> | undefined
): Layer.Layer<Webhooks, ConfigError.ConfigError> =>
  Layer.scoped(
    Webhooks,
    Effect.flatMap(
      Config.all([
        Config.redacted("GITHUB_WEBHOOK_SECRET"),
        Config.option(Config.redacted("GITHUB_WEBHOOK_SECRET_PREVIOUS"))
      ]),
      ([secret, previous]) => make({ ...options, secret: Option.isSome(previous) ? [secret, previous.value] : secret })
    )
  )
