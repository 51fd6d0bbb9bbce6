import { Integration } from "@effect-github/app"
import { NodeHttpTransport, NodeWebhooks } from "@effect-github/node"
import { GithubSimulator } from "@effect-github/testing"
import { Deliveries, Webhooks } from "@effect-github/webhooks"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Effect, Layer, Redacted, Ref, Stream } from "effect"

const SECRET = "deliveries test secret"

// A simulated GitHub whose app webhook points at a real receiver on loopback, and an Integration acting as the app.
const setup = (options: { readonly simulatorSecret?: string } = {}) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const sim = yield* GithubSimulator.make({
      installations: [{ account: "octo-org", repositories: ["web", "api"] }],
      installationCount: 0
    })
    const { url: apiUrl } = yield* sim.server
    const context = yield* Layer.buildWithScope(
      Webhooks.layer({ secret: Redacted.make(SECRET) }).pipe(
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
    yield* sim.setWebhook({ url, secret: options.simulatorSecret ?? SECRET })
    const handled = yield* Ref.make<ReadonlyArray<string>>([])
    yield* webhooks.onAny((event) => Ref.update(handled, (list) => [...list, `${event.name}.${event.action}`]))
    const settle = Effect.gen(function*() {
      while ((yield* webhooks.running) > 0) yield* Effect.sleep("2 millis")
    })
    return { sim, webhooks, context, handled, settle }
  })

const issue = (number: number) => ({
  action: "opened",
  issue: { id: 500 + number, number, title: `Issue ${number}`, user: { id: 1, login: "octocat" } },
  repository: { id: 1_000_001, name: "web", full_name: "octo-org/web", owner: { id: 1001, login: "octo-org" } },
  sender: { id: 1, login: "octocat" },
  installation: { id: 1 }
})

describe("Deliveries", () => {
  it.scopedLive("redeliverFailed asks again for each failed delivery with no later success, across pages", () =>
    Effect.gen(function*() {
      const { context, handled, settle, sim } = yield* setup({ simulatorSecret: "rotated away" })
      // Three deliveries fail (the receiver does not know the simulator's secret yet).
      for (const number of [1, 2, 3]) {
        assert.strictEqual((yield* sim.deliver("issues", issue(number))).statusCode, 401)
      }
      yield* sim.setWebhook({ secret: SECRET })
      // The first of them is then redelivered successfully by hand: it must not be asked for again.
      const first = (yield* sim.deliveries)[0]!
      assert.strictEqual((yield* sim.replay(first.id))!.statusCode, 202)
      assert.strictEqual((yield* sim.deliver("issues", issue(4))).statusCode, 202)
      yield* settle
      assert.strictEqual((yield* Ref.get(handled)).length, 2)

      const report = yield* Deliveries.redeliverFailed({ since: "1 hour", perPage: 2 }).pipe(Effect.provide(context))
      assert.strictEqual(report.scanned, 5)
      assert.deepStrictEqual(
        report.redelivered.map((delivery) => delivery.guid).sort(),
        (yield* sim.deliveries).slice(1, 3).map((delivery) => delivery.guid).sort()
      )
      assert.isAtLeast(yield* sim.count("GET /app/hook/deliveries"), 3)
      assert.strictEqual(yield* sim.count("POST /app/hook/deliveries/{delivery_id}/attempts"), 2)
      // The simulator sends the redeliveries in the background; wait for their outcomes.
      while ((yield* sim.deliveries).length < 7) yield* Effect.sleep("5 millis")
      yield* settle
      const redeliveries = (yield* sim.deliveries).slice(5)
      assert.deepStrictEqual(redeliveries.map((delivery) => [delivery.redelivery, delivery.statusCode]), [
        [true, 202],
        [true, 202]
      ])
      assert.strictEqual((yield* Ref.get(handled)).length, 4)
      // Nothing is left to redeliver.
      const again = yield* Deliveries.redeliverFailed({ since: "1 hour" }).pipe(Effect.provide(context))
      assert.strictEqual(again.redelivered.length, 0)
    }))

  it.scopedLive("a replayed delivery (same X-GitHub-Delivery) runs its handlers once", () =>
    Effect.gen(function*() {
      const { handled, settle, sim } = yield* setup()
      const delivery = yield* sim.deliver("issues", issue(7))
      const replays = [yield* sim.replay(delivery.id), yield* sim.replay(delivery.id)]
      assert.deepStrictEqual(replays.map((replay) => [replay!.guid, replay!.statusCode]), [
        [delivery.guid, 200],
        [delivery.guid, 200]
      ])
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(handled), ["issues.opened"])
    }))

  it.scopedLive("list decodes every attempt; the hook config is read and changed, its secret never shown", () =>
    Effect.gen(function*() {
      const { context, sim } = yield* setup()
      yield* sim.deliver("ping", { zen: "Speak like a human.", hook_id: 1 })
      const deliveries = yield* Deliveries.list().pipe(Stream.runCollect, Effect.provide(context))
      const [ping] = Chunk.toArray(deliveries)
      assert.instanceOf(ping, Deliveries.HookDelivery)
      assert.strictEqual(ping!.event, "ping")
      assert.isTrue(ping!.succeeded)
      const config = yield* Deliveries.getConfig().pipe(Effect.provide(context))
      assert.strictEqual(config.content_type, "json")
      assert.isTrue(Redacted.isRedacted(config.secret))
      const updated = yield* Deliveries.updateConfig({
        url: "http://127.0.0.1:9/elsewhere",
        content_type: "form",
        secret: Redacted.make("next secret")
      }).pipe(Effect.provide(context))
      assert.strictEqual(updated.url, "http://127.0.0.1:9/elsewhere")
      assert.strictEqual(updated.content_type, "form")
      // The secret went to GitHub in the PATCH body, and comes back only as GitHub's mask, Redacted.
      const patch = (yield* sim.requests).find((request) => request.method === "PATCH")!
      assert.strictEqual((patch.body as any).secret, "next secret")
      assert.notInclude(String(updated.secret) + JSON.stringify(updated), "next secret")
    }))

  it.scopedLive("the simulator delivers the installation events its state changes cause", () =>
    Effect.gen(function*() {
      const { handled, settle, sim, webhooks } = yield* setup()
      const suspended = yield* Ref.make<ReadonlyArray<number>>([])
      yield* webhooks.on("installation.suspend", (event) =>
        Ref.update(suspended, (list) => [...list, event.payload.installation.id]))
      yield* sim.setSuspended(1, true)
      yield* sim.setSuspended(1, false)
      yield* sim.installationEvent(1, "created")
      yield* sim.repositoriesEvent(1, "removed", ["api"])
      yield* sim.installationEvent(1, "deleted")
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(handled), [
        "installation.suspend",
        "installation.unsuspend",
        "installation.created",
        "installation_repositories.removed",
        "installation.deleted"
      ])
      assert.deepStrictEqual(yield* Ref.get(suspended), [1])
      assert.isTrue((yield* sim.deliveries).every((delivery) =>
        delivery.statusCode === 202
      ))
    }))
})
