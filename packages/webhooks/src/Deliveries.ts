/**
 * The app's webhook deliveries as GitHub records them (`/app/hook/deliveries`), and the way back for the ones
 * that failed: GitHub never redelivers by itself, `redeliverFailed` asks it to. Also the hook's configuration.
 * Every call acts as the app (JWT) through the `Integration` in context.
 *
 * @example
 * ```ts
 * import { Deliveries } from "@effect-github/webhooks"
 *
 * // Every 10 minutes, ask again for what failed in the last hour.
 * const program = Deliveries.redeliverFailedEvery({ every: "10 minutes", since: "1 hour" })
 * ```
 *
 * @since 0.1.0
 */
import type { RequestError } from "@effect-github/app/HttpRequester"
import * as Integration from "@effect-github/app/Integration"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * One attempt at a delivery (`GET /app/hook/deliveries`): redeliveries share the `guid` (`X-GitHub-Delivery`)
 * of the first attempt and have their own `id`.
 *
 * @since 0.1.0
 * @category models
 */
export class HookDelivery extends Schema.Class<HookDelivery>("HookDelivery")({
  id: Schema.Number,
  guid: Schema.String,
  delivered_at: Schema.Date,
  redelivery: Schema.Boolean,
  duration: Schema.optionalWith(Schema.Number, { nullable: true }),
  status: Schema.String,
  status_code: Schema.Number,
  event: Schema.String,
  action: Schema.optionalWith(Schema.String, { nullable: true }),
  installation_id: Schema.optionalWith(Schema.Number, { nullable: true }),
  repository_id: Schema.optionalWith(Schema.Number, { nullable: true }),
  throttled_at: Schema.optionalWith(Schema.String, { nullable: true })
}) {
  /** @since 0.1.0 */
  get succeeded(): boolean {
    return this.status_code >= 200 && this.status_code < 300
  }
}

/**
 * The app's webhook configuration. GitHub never returns the secret (it shows `********` when one is set).
 *
 * @since 0.1.0
 * @category models
 */
export class HookConfig extends Schema.Class<HookConfig>("HookConfig")({
  url: Schema.optionalWith(Schema.String, { nullable: true }),
  content_type: Schema.optionalWith(Schema.String, { nullable: true }),
  insecure_ssl: Schema.optionalWith(Schema.Union(Schema.String, Schema.Number), { nullable: true }),
  secret: Schema.optionalWith(Schema.Redacted(Schema.String), { nullable: true })
}) {}

/**
 * What `updateConfig` may change.
 *
 * @since 0.1.0
 * @category models
 */
export interface HookConfigUpdate {
  readonly url?: string | undefined
  readonly content_type?: "json" | "form" | undefined
  readonly secret?: Redacted.Redacted<string> | undefined
  readonly insecure_ssl?: "0" | "1" | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  /** 1..100; default the requester's `perPage`. */
  readonly perPage?: number | undefined
}

/**
 * Every delivery attempt, newest first, page by page (cursor pagination, following `Link: rel="next"`).
 *
 * @since 0.1.0
 * @category deliveries
 */
export const list = (options?: ListOptions): Stream.Stream<HookDelivery, RequestError, Integration.Integration> =>
  Stream.unwrap(Effect.map(Integration.Integration, (github) =>
    github.requester.paginate(
      { method: "GET", path: "/app/hook/deliveries" },
      HookDelivery,
      options?.perPage === undefined ? undefined : { perPage: options.perPage }
    )))

/**
 * Asks GitHub to send a delivery again (`POST /app/hook/deliveries/{delivery_id}/attempts`).
 *
 * @since 0.1.0
 * @category deliveries
 */
export const redeliver = (deliveryId: number): Effect.Effect<void, RequestError, Integration.Integration> =>
  Effect.flatMap(Integration.Integration, (github) =>
    Effect.asVoid(github.requester.requestJson({
      method: "POST",
      path: "/app/hook/deliveries/{delivery_id}/attempts",
      params: { delivery_id: deliveryId }
    })))

/**
 * @since 0.1.0
 * @category models
 */
export interface RedeliverOptions {
  /** How far back to look: a duration before now (`"1 hour"`) or a point in time. */
  readonly since: Duration.DurationInput | Date
  /** Stop after this many redeliveries; default no limit. */
  readonly limit?: number | undefined
  readonly perPage?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RedeliverReport {
  /** Attempts read (within `since`). */
  readonly scanned: number
  /** The failed deliveries asked for again: the newest failed attempt of each guid with no success after it. */
  readonly redelivered: ReadonlyArray<HookDelivery>
}

/**
 * Walks the deliveries back to `since`, finds each delivery (guid) whose newest attempt failed, and asks for it
 * again, one at a time (the requester spaces writes as GitHub asks, 1 s apart by default).
 *
 * @since 0.1.0
 * @category deliveries
 */
export const redeliverFailed = (
  options: RedeliverOptions
): Effect.Effect<RedeliverReport, RequestError, Integration.Integration> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const since = options.since instanceof Date
      ? options.since.getTime()
      : now - Duration.toMillis(Duration.decode(options.since))
    // Newest first: the first attempt seen of a guid is its latest.
    const attempts = yield* list({ perPage: options.perPage }).pipe(
      Stream.takeWhile((delivery) => delivery.delivered_at.getTime() >= since),
      Stream.runCollect
    )
    const settled = new Set<string>()
    const failed: Array<HookDelivery> = []
    for (const attempt of attempts) {
      if (settled.has(attempt.guid)) continue
      settled.add(attempt.guid)
      if (!attempt.succeeded) failed.push(attempt)
    }
    const chosen = options.limit === undefined ? failed : failed.slice(0, options.limit)
    yield* Effect.forEach(chosen, (delivery) => redeliver(delivery.id), { discard: true })
    return { scanned: attempts.length, redelivered: chosen }
  })

/**
 * `redeliverFailed` on a schedule, in a fiber of the scope: failures are logged and the next round goes on.
 *
 * @since 0.1.0
 * @category deliveries
 */
export const redeliverFailedEvery = (
  options: RedeliverOptions & { readonly every: Duration.DurationInput }
): Effect.Effect<void, never, Integration.Integration | Scope.Scope> =>
  redeliverFailed(options).pipe(
    Effect.tap((report) =>
      report.redelivered.length === 0
        ? Effect.void
        : Effect.logInfo(`asked GitHub to redeliver ${report.redelivered.length} failed webhook deliveries`)
    ),
    Effect.catchAll((error) => Effect.logWarning("webhook redelivery round failed", error)),
    Effect.repeat(Schedule.spaced(options.every)),
    Effect.forkScoped,
    Effect.asVoid
  )

/**
 * The app's webhook configuration (`GET /app/hook/config`).
 *
 * @since 0.1.0
 * @category config
 */
export const getConfig = (): Effect.Effect<HookConfig, RequestError, Integration.Integration> =>
  Effect.flatMap(
    Integration.Integration,
    (github) => github.requester.request({ method: "GET", path: "/app/hook/config" }, HookConfig)
  )

/**
 * Changes the app's webhook configuration (`PATCH /app/hook/config`); the secret is sent and never returned.
 *
 * @since 0.1.0
 * @category config
 */
export const updateConfig = (
  update: HookConfigUpdate
): Effect.Effect<HookConfig, RequestError, Integration.Integration> =>
  Effect.flatMap(Integration.Integration, (github) => {
    const body: Record<string, string> = {}
    if (update.url !== undefined) body.url = update.url
    if (update.content_type !== undefined) body.content_type = update.content_type
    if (update.insecure_ssl !== undefined) body.insecure_ssl = update.insecure_ssl
    if (update.secret !== undefined) body.secret = Redacted.value(update.secret)
    return github.requester.request({ method: "PATCH", path: "/app/hook/config", body, idempotent: true }, HookConfig)
  })
