import { Integration } from "@effect-github/app"
import { NodeIntegration } from "@effect-github/node"
import * as RedisStore from "@effect-github/redis/RedisStore"
import { GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Redis from "ioredis"
import { build, dump, freshPrefix, newKey, noRedis, raw, redisUrl } from "./redis.js"

const MINT = "POST /app/installations/{installation_id}/access_tokens"

describe.skipIf(noRedis)("NodeIntegration with store: RedisStore", () => {
  it.live("two clients (as two processes would) share one mint through Redis; nothing readable at rest", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 2 })
      const server = yield* sim.server
      const prefix = freshPrefix()
      const keys = newKey()
      const client = () =>
        build(
          Integration.Integration,
          NodeIntegration.layer({
            appId: sim.app.id,
            privateKey: sim.app.privateKey,
            baseUrl: server.url,
            store: RedisStore.layer({ url: redisUrl, prefix, keys })
          })
        )
      const a = yield* client()
      const b = yield* client()
      const first = yield* a.getAccessToken(1)
      const second = yield* b.getAccessToken(1)
      assert.strictEqual(Redacted.value(second.token), Redacted.value(first.token))
      assert.strictEqual(yield* sim.count(MINT), 1)
      const r: Redis.Redis = yield* raw
      const stored = yield* dump(r, prefix)
      assert.isTrue(stored.some((e) => e.key.startsWith(`${prefix}tok:`)))
      for (const e of stored) assert.isFalse(e.value.includes(Redacted.value(first.token)))
    }).pipe(Effect.scoped))
})
