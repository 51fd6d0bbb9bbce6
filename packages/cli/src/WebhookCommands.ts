/**
 * `github-app webhooks listen` (a verifying receiver that prints each event on one line) and
 * `github-app deliveries list | redeliver` (the app's delivery log, and the way back for failed deliveries).
 *
 * @since 0.1.0
 */
import type * as Integration from "@effect-github/app/Integration"
import * as NodeWebhooks from "@effect-github/node/NodeWebhooks"
import * as Deliveries from "@effect-github/webhooks/Deliveries"
import * as Webhooks from "@effect-github/webhooks/Webhooks"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { UsageError } from "./internal/errors.js"

const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object per line."))

const readSecret = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readFileString(path).pipe(
      Effect.mapError(() =>
        new UsageError({ description: `The webhook secret file ${JSON.stringify(path)} could not be read.` })
      ),
      Effect.flatMap((text) => {
        const secret = text.replace(/\r?\n$/, "")
        return secret === ""
          ? Effect.fail(new UsageError({ description: `The webhook secret file ${JSON.stringify(path)} is empty.` }))
          : Effect.succeed(Redacted.make(secret))
      })
    ))

const summary = (event: { readonly payload: unknown }) => {
  const payload = event.payload as any
  return {
    repository: typeof payload?.repository?.full_name === "string" ? payload.repository.full_name : undefined,
    sender: typeof payload?.sender?.login === "string" ? payload.sender.login : undefined
  }
}

const listen = Command.make(
  "listen",
  {
    port: Options.integer("port").pipe(Options.withDescription("Port to listen on."), Options.withDefault(3000)),
    host: Options.text("host").pipe(
      Options.withDescription("Address to listen on; 0.0.0.0 to take deliveries from other hosts."),
      Options.withDefault("127.0.0.1")
    ),
    path: Options.text("path").pipe(
      Options.withDescription("Path deliveries are posted to."),
      Options.withDefault("/")
    ),
    secretFile: Options.file("secret-file").pipe(
      Options.withDescription("File holding the webhook secret (the whole file, one trailing newline dropped).")
    ),
    form: Options.boolean("form").pipe(Options.withDescription("Also accept form-encoded (payload=) deliveries.")),
    count: Options.integer("count").pipe(
      Options.withDescription("Exit after this many verified deliveries."),
      Options.optional
    ),
    json
  },
  (options) =>
    Effect.gen(function*() {
      if (!options.path.startsWith("/")) return yield* new UsageError({ description: "--path must start with /." })
      const secret = yield* readSecret(options.secretFile)
      const seen = yield* Ref.make(0)
      const enough = yield* Deferred.make<void>()
      const program = Effect.gen(function*() {
        const webhooks = yield* Webhooks.Webhooks
        yield* webhooks.onAny((event) =>
          Effect.gen(function*() {
            const { repository, sender } = summary(event)
            const line = options.json
              ? JSON.stringify({
                deliveryId: event.deliveryId,
                event: event.name,
                action: event.action ?? null,
                installationId: event.installationId ?? null,
                repository: repository ?? null,
                sender: sender ?? null,
                known: event._tag === "Known"
              })
              : [
                event.deliveryId,
                event.action === undefined ? event.name : `${event.name}.${event.action}`,
                repository ?? "-",
                sender === undefined ? "-" : `by ${sender}`,
                event.installationId === undefined ? "" : `installation ${event.installationId}`
              ].join("  ").trimEnd()
            yield* Console.log(line)
            const total = yield* Ref.updateAndGet(seen, (n) => n + 1)
            if (Option.isSome(options.count) && total >= options.count.value) yield* Deferred.succeed(enough, undefined)
          })
        )
        const server = yield* NodeWebhooks.serve({
          port: options.port,
          host: options.host,
          path: options.path as `/${string}`
        }).pipe(
          Effect.mapError((error) => new UsageError({ description: `Cannot listen: ${String(error.cause ?? error)}` }))
        )
        yield* Console.error(`Listening for webhook deliveries on ${server.url} (Ctrl-C to stop).`)
        yield* Deferred.await(enough)
      })
      return yield* program.pipe(
        Effect.scoped,
        Effect.provide(Webhooks.layer({ secret, formEncoded: options.form }))
      )
    })
).pipe(Command.withDescription("Receive webhook deliveries, verify them, and print each event on one line."))

const parseSince = (text: string) =>
  Effect.try({
    try: () =>
      Duration.decode(
        text.trim().replace(/^(\d+)\s*([smhd])$/, (_, n, unit) =>
          `${n} ${
            ({ s: "seconds", m: "minutes", h: "hours", d: "days" } as Record<string, string>)[unit]
          }`) as Duration.DurationInput
      ),
    catch: () => new UsageError({ description: `--since takes a duration such as 30m, 1h or 2d, not ${text}.` })
  })

/**
 * The `webhooks` and `deliveries` commands, with the app's credentials options and layer from the main CLI.
 *
 * @since 0.1.0
 * @category commands
 */
export const make = <C extends Command.Command.Config, E, R>(
  credentials: C,
  appLayer: (
    credentials: Command.Command.ParseConfig<{ readonly credentials: C }>["credentials"]
  ) => Layer.Layer<Integration.Integration, E, R>,
  /** Wraps each subcommand's handler (the main CLI ends its parse phase there). */
  handler: <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) => Effect.Effect<A, E2, R2> = (effect) => effect
) => {
  const list = Command.make(
    "list",
    {
      credentials,
      json,
      limit: Options.integer("limit").pipe(Options.withDescription("At most this many."), Options.withDefault(30))
    },
    ({ credentials, json, limit }) =>
      Deliveries.list({ perPage: Math.min(100, limit) }).pipe(
        Stream.take(limit),
        Stream.runForEach((delivery) =>
          Console.log(
            json
              ? JSON.stringify(delivery)
              : [
                String(delivery.id),
                delivery.guid,
                delivery.delivered_at.toISOString(),
                delivery.action === undefined ? delivery.event : `${delivery.event}.${delivery.action}`,
                String(delivery.status_code),
                delivery.status,
                delivery.redelivery ? "redelivery" : ""
              ].join("  ").trimEnd()
          )
        ),
        Effect.provide(appLayer(credentials))
      )
  ).pipe(Command.withDescription("List the app's webhook deliveries, newest first (GET /app/hook/deliveries)."))

  const redeliver = Command.make(
    "redeliver",
    {
      credentials,
      failed: Options.boolean("failed").pipe(
        Options.withDescription("Redeliver every delivery whose latest attempt failed.")
      ),
      since: Options.text("since").pipe(
        Options.withDescription("How far back to look, e.g. 30m, 1h, 2d."),
        Options.withDefault("1h")
      ),
      id: Options.integer("id").pipe(Options.withDescription("Redeliver this one delivery."), Options.optional)
    },
    ({ credentials, failed, id, since }) =>
      Effect.gen(function*() {
        if (Option.isSome(id)) {
          yield* Deliveries.redeliver(id.value)
          return yield* Console.log(`Asked GitHub to redeliver ${id.value}.`)
        }
        if (!failed) return yield* new UsageError({ description: "Give --failed (with --since) or --id." })
        const report = yield* Deliveries.redeliverFailed({ since: yield* parseSince(since) })
        for (const delivery of report.redelivered) {
          yield* Console.log(`${delivery.id}  ${delivery.guid}  ${delivery.event}  ${delivery.status_code}`)
        }
        yield* Console.error(
          `Asked GitHub to redeliver ${report.redelivered.length} failed of ${report.scanned} deliveries since ${since}.`
        )
      }).pipe(Effect.provide(appLayer(credentials)))
  ).pipe(Command.withDescription("Ask GitHub to redeliver failed deliveries (POST .../attempts)."))

  return {
    webhooks: Command.make("webhooks").pipe(
      Command.withDescription("Receive webhooks."),
      Command.withSubcommands([Command.transformHandler(listen, handler)])
    ),
    deliveries: Command.make("deliveries").pipe(
      Command.withDescription("The app's webhook deliveries."),
      Command.withSubcommands([Command.transformHandler(list, handler), Command.transformHandler(redeliver, handler)])
    )
  }
}
