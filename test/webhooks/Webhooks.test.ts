import { Integration } from "@effect-github/app"
import { NodeHttpTransport, NodeWebhooks } from "@effect-github/node"
import { GithubSimulator } from "@effect-github/testing"
import { Webhooks } from "@effect-github/webhooks"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Deferred, Effect, Exit, Fiber, Layer, Redacted, Ref, Scope, TestClock } from "effect"
import * as Crypto from "node:crypto"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const SECRET = "webhook secret for tests"
const secret = Redacted.make(SECRET)
const examples: ReadonlyArray<{ name: string; examples: ReadonlyArray<any> }> = require(
  "@octokit/webhooks-examples/api.github.com/index.json"
)
const example = (name: string, action?: string) =>
  structuredClone(
    examples.find((set) => set.name === name)!.examples.find((payload) =>
      action === undefined || payload.action === action
    )
  )

let sequence = 0
interface Post {
  readonly event?: string | undefined
  readonly body?: string | Uint8Array | undefined
  readonly payload?: unknown
  readonly deliveryId?: string | undefined
  readonly headers?: Record<string, string | undefined> | undefined
  readonly secret?: string | undefined
  readonly method?: string | undefined
}
const requestOf = (url: string, post: Post): Request => {
  const body = post.body ?? JSON.stringify(post.payload ?? example("issues", "opened"))
  const bytes = typeof body === "string" ? Buffer.from(body) : body
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": post.event ?? "issues",
    "x-github-delivery": post.deliveryId ?? `delivery-${++sequence}`,
    "x-hub-signature-256": `sha256=${Crypto.createHmac("sha256", post.secret ?? SECRET).update(bytes).digest("hex")}`,
    "user-agent": "GitHub-Hookshot/test"
  }
  for (const [name, value] of Object.entries(post.headers ?? {})) {
    if (value === undefined) delete headers[name]
    else headers[name] = value
  }
  const method = post.method ?? "POST"
  return new Request(url, method === "GET" ? { method, headers } : { method, headers, body: bytes as BodyInit })
}
const post = (url: string, options: Post = {}) =>
  Effect.promise(async () => {
    const response = await fetch(requestOf(url, options))
    return { status: response.status, json: await response.json() as any }
  })

const serve = (options: Partial<Webhooks.Options> = {}) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = yield* Layer.buildWithScope(Webhooks.layer({ secret, ...options }), scope)
    const webhooks = Context.get(context, Webhooks.Webhooks)
    const server = yield* NodeWebhooks.serve({ path: "/hooks" }).pipe(Effect.provide(context))
    return { webhooks, url: server.url }
  })

describe("Webhooks over a loopback server", () => {
  it.scopedLive("runs the handlers for the event, the action and any, with typed payloads", () =>
    Effect.gen(function*() {
      const { url, webhooks } = yield* serve()
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const done = yield* Deferred.make<void>()
      yield* webhooks.on(
        "issues.opened",
        (event) =>
          Ref.update(seen, (list) => [...list, `opened #${event.payload.issue.number} ${event.payload.action}`])
      )
      yield* webhooks.on(
        "issues",
        (event) => Ref.update(seen, (list) => [...list, `issues ${event.action} by ${event.payload.sender.login}`])
      )
      yield* webhooks.on("pull_request", () => Ref.update(seen, (list) => [...list, "wrong handler"]))
      yield* webhooks.onAny((event) =>
        Ref.update(seen, (list) => [...list, `any ${event._tag} ${event.name}`]).pipe(
          Effect.zipRight(Deferred.succeed(done, undefined))
        )
      )
      const payload = example("issues", "opened")
      const reply = yield* post(url, { payload, deliveryId: "d-typed" })
      assert.strictEqual(reply.status, 202)
      assert.deepStrictEqual(reply.json, { ok: true, deliveryId: "d-typed", duplicate: false })
      yield* Deferred.await(done)
      yield* Effect.yieldNow()
      const list = [...(yield* Ref.get(seen))].sort()
      assert.deepStrictEqual(list, [
        `any Known issues`,
        `issues opened by ${payload.sender.login}`,
        `opened #${payload.issue.number} opened`
      ])
    }))

  it.scopedLive("answers 2xx before a slow handler ends (ordering, not timing)", () =>
    Effect.gen(function*() {
      const { url, webhooks } = yield* serve()
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const release = yield* Deferred.make<void>()
      const finished = yield* Deferred.make<void>()
      yield* webhooks.on("issues.opened", () =>
        Effect.gen(function*() {
          yield* Ref.update(log, (list) => [...list, "handler started"])
          // The handler cannot end before the test has seen the response: if the response waited for the
          // handler, this would never complete and the test would fail at its timeout.
          yield* Deferred.await(release)
          yield* Ref.update(log, (list) => [...list, "handler ended"])
          yield* Deferred.succeed(finished, undefined)
        }))
      const reply = yield* post(url)
      yield* Ref.update(log, (list) => [...list, `response ${reply.status}`])
      yield* Deferred.succeed(release, undefined)
      yield* Deferred.await(finished)
      const entries = yield* Ref.get(log)
      assert.strictEqual(entries.indexOf("response 202") < entries.indexOf("handler ended"), true)
      assert.deepStrictEqual(entries.slice(-1), ["handler ended"])
    }))

  it.scopedLive("a failing or dying handler does not stop the others and is reported with the delivery id", () =>
    Effect.gen(function*() {
      const failures = yield* Ref.make<ReadonlyArray<Webhooks.HandlerFailure>>([])
      const { url, webhooks } = yield* serve({
        onHandlerFailure: (failure) => Ref.update(failures, (list) => [...list, failure])
      })
      const ran = yield* Deferred.make<string>()
      yield* webhooks.on("issues.opened", () => Effect.fail("boom"))
      yield* webhooks.on("issues", () => Effect.die(new Error("defect")))
      yield* webhooks.onAny((event) => Deferred.succeed(ran, event.deliveryId))
      yield* post(url, { deliveryId: "d-fail" })
      assert.strictEqual(yield* Deferred.await(ran), "d-fail")
      while ((yield* Ref.get(failures)).length < 2) yield* Effect.sleep("5 millis")
      const list = [...(yield* Ref.get(failures))].sort((a, b) => a.handler.localeCompare(b.handler))
      assert.deepStrictEqual(list.map((failure) => [failure.deliveryId, failure.handler]), [
        ["d-fail", "issues"],
        ["d-fail", "issues.opened"]
      ])
      assert.isTrue(Cause.isDie(list[0]!.cause))
      assert.isTrue(Cause.isFailType(list[1]!.cause) || Cause.isFailure(list[1]!.cause))
    }))

  it.scopedLive("refuses with the documented statuses", () =>
    Effect.gen(function*() {
      const { url } = yield* serve({ maxBodyBytes: 64 * 1024 })
      const statusOf = (options: Post) => Effect.map(post(url, options), (reply) => [reply.status, reply.json.error])
      assert.deepStrictEqual(yield* statusOf({ headers: { "x-github-event": undefined } }), [
        400,
        "WebhookHeaderMissing"
      ])
      assert.deepStrictEqual(yield* statusOf({ headers: { "x-github-delivery": undefined } }), [
        400,
        "WebhookHeaderMissing"
      ])
      assert.deepStrictEqual(yield* statusOf({ headers: { "x-hub-signature-256": undefined } }), [
        401,
        "WebhookSignatureMissing"
      ])
      assert.deepStrictEqual(yield* statusOf({ secret: "wrong" }), [401, "WebhookSignatureMismatch"])
      assert.deepStrictEqual(yield* statusOf({ headers: { "x-hub-signature-256": "sha256=xyz" } }), [
        401,
        "WebhookSignatureMalformed"
      ])
      assert.deepStrictEqual(yield* statusOf({ headers: { "content-type": "text/plain" } }), [
        415,
        "WebhookUnsupportedMediaType"
      ])
      assert.deepStrictEqual(yield* statusOf({ body: JSON.stringify({ pad: "x".repeat(70 * 1024) }) }), [
        413,
        "WebhookPayloadTooLarge"
      ])
      assert.deepStrictEqual(yield* statusOf({ body: "{not json" }), [400, "WebhookPayloadInvalid"])
      const wrongShape = example("issues", "opened")
      wrongShape.issue.number = "seven"
      const decode = yield* post(url, { payload: wrongShape })
      assert.strictEqual(decode.status, 400)
      assert.include(decode.json.message, "issue.number")
      const get = yield* Effect.promise(() => fetch(requestOf(url, { method: "GET" })))
      assert.strictEqual(get.status, 405)
      assert.strictEqual(get.headers.get("allow"), "POST")
      // A body re-serialised on the way (as some frameworks do) is refused.
      const original = `{"zen": "Non-blocking is better than blocking.",  "hook_id": 1}`
      const signature = `sha256=${Crypto.createHmac("sha256", SECRET).update(original).digest("hex")}`
      const reserialised = yield* post(url, {
        event: "ping",
        body: JSON.stringify(JSON.parse(original)),
        headers: { "x-hub-signature-256": signature }
      })
      assert.strictEqual(reserialised.status, 401)
    }))

  it.scopedLive("form-encoded bodies: verified over the form bytes when accepted, 415 otherwise", () =>
    Effect.gen(function*() {
      const payload = example("issues", "opened")
      const form = `payload=${encodeURIComponent(JSON.stringify(payload))}`
      const headers = { "content-type": "application/x-www-form-urlencoded" }
      const refusing = yield* serve()
      assert.strictEqual((yield* post(refusing.url, { body: form, headers })).status, 415)
      const accepting = yield* serve({ formEncoded: true })
      const number = yield* Deferred.make<number>()
      yield* accepting.webhooks.on("issues.opened", (event) => Deferred.succeed(number, event.payload.issue.number))
      assert.strictEqual((yield* post(accepting.url, { body: form, headers })).status, 202)
      assert.strictEqual(yield* Deferred.await(number), payload.issue.number)
      assert.strictEqual((yield* post(accepting.url, { body: "other=1", headers })).status, 400)
    }))

  it.scopedLive("a replayed delivery is answered 200 and runs no handler again", () =>
    Effect.gen(function*() {
      const { url, webhooks } = yield* serve()
      const count = yield* Ref.make(0)
      yield* webhooks.on("issues", () => Ref.update(count, (n) => n + 1))
      const first = yield* post(url, { deliveryId: "d-replayed" })
      const second = yield* post(url, { deliveryId: "d-replayed" })
      const third = yield* post(url, { deliveryId: "d-other" })
      assert.deepStrictEqual([first.status, second.status, third.status], [202, 200, 202])
      assert.isTrue(second.json.duplicate)
      while ((yield* webhooks.running) > 0) yield* Effect.sleep("5 millis")
      assert.strictEqual(yield* Ref.get(count), 2)
    }))

  it.scopedLive("the Web Request -> Response handler answers as the route does", () =>
    Effect.gen(function*() {
      const { webhooks } = yield* serve()
      const number = yield* Deferred.make<number>()
      yield* webhooks.on("issues.opened", (event) => Deferred.succeed(number, event.payload.issue.number))
      const ok = yield* Effect.promise(() => webhooks.fetch(requestOf("http://localhost/hooks", {})))
      assert.strictEqual(ok.status, 202)
      assert.strictEqual(yield* Deferred.await(number), example("issues", "opened").issue.number)
      const bad = yield* Effect.promise(() => webhooks.fetch(requestOf("http://localhost/hooks", { secret: "x" })))
      assert.strictEqual(bad.status, 401)
      const big = yield* Effect.promise(() =>
        webhooks.fetch(requestOf("http://localhost/hooks", { body: "x".repeat(26 * 1024 * 1024) }))
      )
      assert.strictEqual(big.status, 413)
    }))

  it.scopedLive("handlers act as the delivery's installation through the Integration in context", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installations: [{ account: "octo-org", repositories: ["web"] }] })
      const { url: apiUrl } = yield* sim.server
      const scope = yield* Effect.scope
      const context = yield* Layer.buildWithScope(
        Webhooks.layer({ secret }).pipe(
          Layer.provideMerge(
            Integration.layerApp({
              appId: sim.app.id,
              privateKey: sim.app.privateKey,
              baseUrl: apiUrl,
              secondsBetweenRequests: 0,
              secondsBetweenWrites: 0
            }).pipe(Layer.provide(NodeHttpTransport.layer()))
          )
        ),
        scope
      )
      const webhooks = Context.get(context, Webhooks.Webhooks)
      const { url } = yield* NodeWebhooks.serve().pipe(Effect.provide(context))
      const names = yield* Deferred.make<ReadonlyArray<string>>()
      yield* webhooks.on("issues.opened", (event) =>
        Effect.gen(function*() {
          assert.strictEqual(event.installation?.id, 1)
          const repositories = yield* event.installation!.requester().requestJson({
            method: "GET",
            path: "/installation/repositories"
          })
          yield* Deferred.succeed(names, (repositories.body as any).repositories.map((r: any) => r.name))
        }).pipe(Effect.orDie))
      const payload = example("issues", "opened")
      payload.installation = { id: 1, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" }
      assert.strictEqual((yield* post(url, { payload })).status, 202)
      assert.deepStrictEqual(yield* Deferred.await(names), ["web"])
    }))
})

describe("Webhooks scope", () => {
  const delivery = (deliveryId: string): Webhooks.IncomingDelivery => {
    const body = Buffer.from(JSON.stringify(example("issues", "opened")))
    return {
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": deliveryId,
        "X-Hub-Signature-256": `sha256=${Crypto.createHmac("sha256", SECRET).update(body).digest("hex")}`
      },
      body
    }
  }

  it.effect("closing the scope waits for running handlers, and refuses new deliveries meanwhile", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const webhooks = yield* Webhooks.make({ secret }).pipe(Scope.extend(scope))
      const release = yield* Deferred.make<void>()
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      yield* webhooks.on("issues", () =>
        Deferred.await(release).pipe(
          Effect.zipRight(Ref.update(log, (list) => [...list, "handler ended"])),
          Effect.onInterrupt(() => Ref.update(log, (list) => [...list, "handler interrupted"]))
        ))
      const receipt = yield* webhooks.receive(delivery("d-close"))
      assert.strictEqual(receipt.handlers, 1)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* Effect.yieldNow()
      assert.isUndefined(yield* Fiber.poll(closing).pipe(Effect.map((o) => o._tag === "Some" ? o : undefined)))
      const refused = yield* Effect.flip(webhooks.receive(delivery("d-late")))
      assert.strictEqual(refused._tag, "WebhookReceiverClosed")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(closing)
      assert.deepStrictEqual(yield* Ref.get(log), ["handler ended"])
    }))

  it.effect("closing is bounded: past shutdownTimeout the handlers left are interrupted", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const failures = yield* Ref.make<ReadonlyArray<Webhooks.HandlerFailure>>([])
      const webhooks = yield* Webhooks.make({
        secret,
        shutdownTimeout: "5 seconds",
        onHandlerFailure: (failure) => Ref.update(failures, (list) => [...list, failure])
      }).pipe(Scope.extend(scope))
      yield* webhooks.on("issues", () => Effect.never)
      const receipt = yield* webhooks.receive(delivery("d-stuck"))
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual((yield* Fiber.poll(closing))._tag, "None")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
      yield* receipt.done
      assert.strictEqual(yield* webhooks.running, 0)
    }))
})
