/**
 * The shared mint of InstallationTokens ("flight"): callers only await it, so one caller's interruption leaves it
 * to the others; the last caller leaving aborts it; the layer's scope closing aborts it; it is traced with the
 * tracer of the caller that started it. The mint's POST is held open by the test until it says so.
 */
import { InstallationTokens, Integration } from "@effect-github/app"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Option, Redacted, Scope, Tracer } from "effect"
import { fake, json } from "./HttpRequesterFake.js"
import { keys } from "./keys.js"

const setup = Effect.gen(function*() {
  const release = yield* Deferred.make<void>()
  const posts = { started: 0, interrupted: 0, spans: [] as Array<ReadonlyArray<string>> }
  const client = fake((request) => {
    if (request.method !== "POST") return json({}, { status: 404 })
    posts.started++
    return Effect.gen(function*() {
      // the names of the spans this request runs under, innermost first
      const names: Array<string> = []
      let span: Option.Option<Tracer.AnySpan> = yield* Effect.option(Effect.currentSpan)
      while (Option.isSome(span)) {
        names.push(span.value._tag === "Span" ? span.value.name : "external")
        span = span.value._tag === "Span" ? span.value.parent : Option.none()
      }
      posts.spans.push(names)
      yield* Deferred.await(release)
      return json(
        { token: `ghs_${String(posts.started).padStart(36, "0")}`, expires_at: "2099-01-01T00:00:00Z" },
        { status: 201 }
      )
    }).pipe(Effect.onInterrupt(() => Effect.sync(() => posts.interrupted++)))
  })
  const scope = yield* Scope.make()
  const context = yield* Layer.buildWithScope(
    Integration.layerApp({
      appId: 1,
      privateKey: keys.pkcs1,
      baseUrl: "https://api.github.com",
      secondsBetweenRequests: 0,
      secondsBetweenWrites: 0
    }).pipe(Layer.provide(client.layer)),
    scope
  )
  const tokens = yield* Effect.provide(InstallationTokens.InstallationTokens, context)
  return { tokens, release, posts, scope }
})

/** Lets forked fibers run until the mint's POST has started (it waits on `release`). */
const untilStarted = (posts: { readonly started: number }, n: number) =>
  Effect.gen(function*() {
    for (let turn = 0; turn < 200 && posts.started < n; turn++) yield* Effect.yieldNow()
    assert.strictEqual(posts.started, n)
  })

describe("InstallationTokens flight", () => {
  it.effect("interrupting one caller leaves the mint to the other", () =>
    Effect.gen(function*() {
      const { posts, release, tokens } = yield* setup
      const first = yield* Effect.fork(tokens.get(7))
      const second = yield* Effect.fork(tokens.get(7))
      yield* untilStarted(posts, 1)
      yield* Fiber.interrupt(first)
      yield* Deferred.succeed(release, undefined)
      const token = yield* Fiber.join(second)
      assert.strictEqual(Redacted.value(token.token), `ghs_${"1".padStart(36, "0")}`)
      assert.deepStrictEqual([posts.started, posts.interrupted], [1, 0])
    }))

  it.effect("when every caller leaves, the mint is aborted and nothing is cached", () =>
    Effect.gen(function*() {
      const { posts, release, tokens } = yield* setup
      const callers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(tokens.get(7)))
      yield* untilStarted(posts, 1)
      yield* Fiber.interruptAll(callers)
      assert.strictEqual(posts.interrupted, 1)
      yield* Deferred.succeed(release, undefined)
      yield* tokens.get(7)
      assert.strictEqual(posts.started, 2)
    }))

  it.effect("closing the layer's scope aborts a mint in flight, and its callers with it", () =>
    Effect.gen(function*() {
      const { posts, scope, tokens } = yield* setup
      const caller = yield* Effect.fork(tokens.get(7))
      yield* untilStarted(posts, 1)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(posts.interrupted, 1)
      assert.isTrue(Exit.isInterrupted(yield* Fiber.await(caller)))
    }))

  it.effect("the mint is traced with the tracer of the caller that started it, in a span of its own", () =>
    Effect.gen(function*() {
      const { posts, release, tokens } = yield* setup
      // Effect's built-in tracer skips the mint's spans: a distinct tracer object records them
      const native = yield* Effect.tracer
      const tracer = Tracer.make({ span: native.span, context: native.context })
      const caller = yield* Effect.fork(Effect.withTracer(Effect.withSpan(tokens.get(7), "caller"), tracer))
      yield* untilStarted(posts, 1)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(caller)
      // shared by its callers, it is no caller's child
      assert.deepStrictEqual(posts.spans[0]?.slice(1), ["InstallationTokens.mint"])
    }))
})
