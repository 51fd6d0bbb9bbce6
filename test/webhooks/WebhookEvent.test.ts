import { WebhookEvent } from "@effect-github/webhooks"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const spec = require("@octokit/openapi-webhooks/generated/api.github.com.json")
interface ExampleSet {
  readonly name: string
  readonly examples: ReadonlyArray<any>
}
const community = (flavour: string): ReadonlyArray<ExampleSet> =>
  require(`@octokit/webhooks-examples/${flavour}/index.json`)

const failures = (name: string, payloads: ReadonlyArray<any>) =>
  Effect.gen(function*() {
    const failed: Array<string> = []
    let known = 0
    for (const payload of payloads) {
      const exit = yield* Effect.exit(WebhookEvent.decode(name, payload))
      if (Exit.isFailure(exit)) failed.push(Cause.pretty(exit.cause).split("\n")[0]!)
      else if (exit.value._tag === "Known") known++
    }
    return { failed, known }
  })

describe("WebhookEvent", () => {
  it.effect("every example payload in the webhook OpenAPI description decodes as a known event", () =>
    Effect.gen(function*() {
      let count = 0
      for (const [key, example] of Object.entries<any>(spec.components.examples)) {
        const event = key === "ping" ? "ping" : key.split("-").slice(0, key.startsWith("secret") ? 4 : 2).join("_")
        const name = WebhookEvent.eventNames.find((name) => name === event) ?? event
        const { failed, known } = yield* failures(name, [example.value])
        assert.deepStrictEqual(failed, [], key)
        assert.strictEqual(known, 1, `${key} as ${name}`)
        count++
      }
      assert.strictEqual(count, 6)
    }))

  for (const flavour of ["api.github.com", "ghes-31", "ghes-32", "ghes-33", "ghes-34", "ghes-35"]) {
    it.effect(`every real delivery in @octokit/webhooks-examples (${flavour}) decodes`, () =>
      Effect.gen(function*() {
        let total = 0
        let known = 0
        const failed: Array<string> = []
        for (const set of community(flavour)) {
          const result = yield* failures(set.name, set.examples)
          total += set.examples.length
          known += result.known
          failed.push(...result.failed.map((failure) => `${set.name}: ${failure}`))
        }
        assert.deepStrictEqual(failed, [])
        assert.isAbove(total, 0)
        // The rest are events or actions newer than the examples' GHES or older than the spec: generic, not failures.
        assert.isAbove(known, total * 0.8)
      }))
  }

  const issuesOpened = () =>
    structuredClone(
      community("api.github.com").find((set) => set.name === "issues")!.examples.find((example) =>
        example.action === "opened"
      )
    )

  it.effect("a real delivery without the fields the spec has since made required decodes", () =>
    Effect.gen(function*() {
      const payload = issuesOpened()
      delete payload.repository.has_discussions
      delete payload.repository.visibility
      delete payload.repository.web_commit_signoff_required
      delete payload.issue.state_reason
      delete payload.issue.performed_via_github_app
      delete payload.issue.reactions
      payload.release = { immutable: undefined }
      const decoded = yield* WebhookEvent.decode("issues", payload)
      assert.strictEqual(decoded._tag, "Known")
      assert.strictEqual(decoded.action, "opened")
      const issue = (decoded.payload as any).issue
      assert.strictEqual(issue.number, payload.issue.number)
      assert.isUndefined(issue.state_reason)
      // What the schema does not name is kept as GitHub sent it.
      assert.deepStrictEqual((decoded.payload as any).release, { immutable: undefined })
    }))

  it.effect("a known event that does not match fails with the path; unknown events and actions are generic", () =>
    Effect.gen(function*() {
      const payload = issuesOpened()
      payload.issue.number = "seven"
      const error = yield* Effect.flip(WebhookEvent.decode("issues", payload, "d-1"))
      assert.strictEqual(error._tag, "WebhookDecodeError")
      assert.deepStrictEqual(error.path, ["issue", "number"])
      assert.strictEqual(error.deliveryId, "d-1")
      assert.include(error.message, "issue.number")
      const noSender = issuesOpened()
      delete noSender.sender
      assert.deepStrictEqual((yield* Effect.flip(WebhookEvent.decode("issues", noSender))).path, ["sender"])

      const unknownAction = yield* WebhookEvent.decode("issues", { ...issuesOpened(), action: "teleported" })
      assert.strictEqual(unknownAction._tag, "Generic")
      assert.strictEqual(unknownAction.action, "teleported")
      const unknownEvent = yield* WebhookEvent.decode("hologram", { action: "beamed", anything: [1] })
      assert.deepStrictEqual(unknownEvent, {
        _tag: "Generic",
        name: "hologram",
        action: "beamed",
        payload: { action: "beamed", anything: [1] }
      })
      const ping = yield* WebhookEvent.decode("ping", { zen: "Design for failure.", hook_id: 1 })
      assert.strictEqual(ping._tag, "Known")
    }))
})
