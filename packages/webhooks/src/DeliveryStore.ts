/**
 * Which deliveries were already received, by `X-GitHub-Delivery` id, so a replayed or redelivered delivery runs
 * its handlers once: a seam with a bounded in-memory default; a fleet provides a shared store (Redis) instead.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { DeliveryStoreError } from "./WebhookError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Claims a delivery id for `ttl`: true the first time, false while an earlier claim holds. Atomic across every
   * receiver sharing the store.
   */
  readonly claim: (deliveryId: string, ttl: Duration.Duration) => Effect.Effect<boolean, DeliveryStoreError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DeliveryStore extends Context.Tag("@effect-github/webhooks/DeliveryStore")<DeliveryStore, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface MemoryOptions {
  /** The most ids remembered; past it the oldest claims are forgotten first. Default 100,000. */
  readonly capacity?: number | undefined
}

/**
 * An in-memory store for one process: claims expire by `Clock`, and at most `capacity` are kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (options?: MemoryOptions): Service => {
  const capacity = Math.max(1, options?.capacity ?? 100_000)
  // Insertion order is claim order, so the first entries are the oldest: eviction and expiry scan from the front.
  const claims = new Map<string, number>()
  return {
    claim: (deliveryId, ttl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        for (const [id, expiresAt] of claims) {
          if (expiresAt > now && claims.size < capacity) break
          claims.delete(id)
        }
        const expiresAt = claims.get(deliveryId)
        if (expiresAt !== undefined && expiresAt > now) return false
        claims.delete(deliveryId)
        claims.set(deliveryId, now + Duration.toMillis(ttl))
        return true
      })
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<DeliveryStore> =>
  Layer.sync(DeliveryStore, () => makeMemory(options))
