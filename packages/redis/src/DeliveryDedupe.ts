/**
 * Webhook deliveries seen, shared by a fleet: `claim` answers `true` only the first time a delivery id is seen
 * within its TTL (one `SET NX PX`), so a redelivered or doubly received event is handled once.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as RedisClient from "./RedisClient.js"

/**
 * @since 0.1.0
 * @category errors
 */
export class DedupeError extends Schema.TaggedError<DedupeError>("@effect-github/redis/DedupeError")("DedupeError", {
  operation: Schema.String,
  description: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `The delivery dedupe set failed (${this.operation}): ${this.description}`
  }
}

/**
 * The shape the webhooks package expects of a dedupe set.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `true` the first time `deliveryId` is claimed within `ttl`; `false` for a repeat. */
  readonly claim: (deliveryId: string, ttl: Duration.DurationInput) => Effect.Effect<boolean, DedupeError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DeliveryDedupe extends Context.Tag("@effect-github/redis/DeliveryDedupe")<DeliveryDedupe, Service>() {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, RedisClient.RedisClient> = Effect.gen(function*() {
  const client = yield* RedisClient.RedisClient
  // the fallback: ids this process claimed, with their expiry on its clock
  const seen = new Map<string, number>()
  const claimInMemory = (deliveryId: string, ttl: number) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      if (seen.size > 100_000) { for (const [id, until] of seen) if (until <= now) seen.delete(id) }
      const until = seen.get(deliveryId)
      if (until !== undefined && until > now) return false
      seen.set(deliveryId, now + ttl)
      return true
    })
  const claim = (deliveryId: string, ttl: Duration.DurationInput): Effect.Effect<boolean, DedupeError> => {
    if (typeof deliveryId !== "string" || deliveryId.length === 0 || deliveryId.length > 200) {
      return Effect.fail(new DedupeError({ operation: "claim", description: "deliveryId must be a non-empty string" }))
    }
    const millis = Duration.decodeUnknown(ttl)
    if (millis._tag === "None" || !Duration.isFinite(millis.value) || Duration.toMillis(millis.value) < 1) {
      return Effect.fail(new DedupeError({ operation: "claim", description: "ttl must be a finite positive duration" }))
    }
    const ms = Math.ceil(Duration.toMillis(millis.value))
    return client.run("claim", (r) => r.set(`${client.prefix}delivery:${deliveryId}`, "1", "PX", ms, "NX")).pipe(
      Effect.map((reply) => reply === "OK"),
      Effect.catchAll((error) =>
        client.onFailure === "memory"
          ? Effect.zipRight(client.fellBack("the delivery dedupe set", error), claimInMemory(deliveryId, ms))
          : Effect.fail(new DedupeError({ operation: "claim", description: error.message }))
      ),
      Effect.withSpan("DeliveryDedupe.claim", { attributes: { deliveryId } })
    )
  }
  return DeliveryDedupe.of({ claim })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DeliveryDedupe, never, RedisClient.RedisClient> = Layer.effect(DeliveryDedupe, make)
