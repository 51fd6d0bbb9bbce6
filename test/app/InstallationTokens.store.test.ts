/**
 * InstallationTokens with a TokenStore in context: a miss asks the store (one mint for every process sharing it),
 * a hit stays in the process, revoke and invalidate forget the key in the store, and a store that fails never
 * fails a caller GitHub would serve. The store is a small in-memory implementation of the seam.
 */
import { type InstallationAuthorization, InstallationTokens, Integration, TokenStore } from "@effect-github/app"
import { GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"

const MINT = "POST /app/installations/{installation_id}/access_tokens"

const memoryStore = (options: { readonly failing?: boolean } = {}) => {
  const stored = new Map<string, InstallationAuthorization.InstallationAuthorization>()
  const calls = { getOrMint: 0, remove: [] as Array<string> }
  const service: TokenStore.Service = {
    getOrMint: <E>(
      key: string,
      { goodAfter }: TokenStore.GetOrMintOptions,
      mint: Effect.Effect<InstallationAuthorization.InstallationAuthorization, E>
    ) =>
      Effect.suspend((): Effect.Effect<
        InstallationAuthorization.InstallationAuthorization,
        E | TokenStore.TokenStoreError
      > => {
        calls.getOrMint++
        if (options.failing) {
          return Effect.fail(new TokenStore.TokenStoreError({ operation: "getOrMint", description: "unreachable" }))
        }
        const found = stored.get(key)
        if (found !== undefined && found.expires_at.getTime() > goodAfter) return Effect.succeed(found)
        return Effect.tap(mint, (authorization) => Effect.sync(() => stored.set(key, authorization)))
      }),
    remove: (key) =>
      Effect.suspend(() => {
        calls.remove.push(key)
        stored.delete(key)
        return options.failing
          ? Effect.fail(new TokenStore.TokenStoreError({ operation: "remove", description: "unreachable" }))
          : Effect.void
      })
  }
  return { stored, calls, layer: Layer.succeed(TokenStore.TokenStore, service) }
}

const worker = (sim: GithubSimulator.Simulator, store: Layer.Layer<TokenStore.TokenStore>) =>
  Effect.flatMap(
    Layer.build(
      Integration.layerApp({
        appId: sim.app.id,
        privateKey: sim.app.privateKey,
        baseUrl: sim.baseUrl,
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0
      }).pipe(Layer.provide(sim.layer), Layer.provide(store))
    ),
    (context) => Effect.provide(InstallationTokens.InstallationTokens, context)
  )

const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) => Redacted.value(a) === Redacted.value(b)

describe("InstallationTokens with a TokenStore", () => {
  it.scoped("two processes sharing a store mint once; hits stay in the process", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 3 })
      const store = memoryStore()
      const a = yield* worker(sim, store.layer)
      const b = yield* worker(sim, store.layer)
      const first = yield* a.get(1)
      const second = yield* b.get(1)
      assert.isTrue(same(first.token, second.token))
      assert.strictEqual(yield* sim.count(MINT), 1)
      yield* a.get(1)
      yield* b.get(1)
      assert.strictEqual(store.calls.getOrMint, 2)
    }))

  it.scoped("revoke and invalidate forget the key in the store", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 3 })
      const store = memoryStore()
      const a = yield* worker(sim, store.layer)
      const token = yield* a.get(1, { permissions: { contents: "read" } })
      yield* a.revoke(token.token)
      assert.strictEqual(store.calls.remove.length, 1)
      assert.strictEqual(store.stored.size, 0)
      yield* a.get(2)
      yield* a.invalidate(2)
      assert.deepStrictEqual(store.calls.remove.slice(1), ["2"])
    }))

  it.scoped("a store that fails is a miss: the token is minted in the process and nothing fails", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 3 })
      const store = memoryStore({ failing: true })
      const a = yield* worker(sim, store.layer)
      const token = yield* a.get(1)
      assert.strictEqual(yield* sim.count(MINT), 1)
      yield* a.revoke(token.token)
      assert.strictEqual(yield* sim.count("DELETE /installation/token"), 1)
    }))
})
