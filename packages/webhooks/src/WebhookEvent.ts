/**
 * A verified delivery as handlers see it: the event's name and action, its payload decoded with the generated
 * schema (or kept raw for an event or action the schemas do not know), and the installation to act as.
 *
 * @since 0.1.0
 */
import type { InstallationRef } from "@effect-github/app/Integration"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { WebhookDecodeError } from "./WebhookError.js"
import * as Generated from "./WebhookSchemas.js"

/**
 * Every event name the schemas know, e.g. `"pull_request"`.
 *
 * @since 0.1.0
 * @category models
 */
export type EventName = keyof Generated.Payloads

/**
 * `"event.action"` for every known action, e.g. `"pull_request.opened"`.
 *
 * @since 0.1.0
 * @category models
 */
export type ActionName = {
  [E in EventName]: [Generated.Actions[E]] extends [never] ? never : `${E}.${Generated.Actions[E]}`
}[EventName]

/**
 * What `on` accepts: an event, or an event and action.
 *
 * @since 0.1.0
 * @category models
 */
export type Name = EventName | ActionName

/**
 * The payload type of a name: the event's payload, with `action` narrowed for `"event.action"`.
 *
 * @since 0.1.0
 * @category models
 */
export type PayloadOf<N extends Name> = N extends `${infer E extends EventName}.${infer A}`
  ? Omit<Generated.Payloads[E], "action"> & { readonly action: A }
  : N extends EventName ? Generated.Payloads[N]
  : never

/**
 * What every delivery carries.
 *
 * @since 0.1.0
 * @category models
 */
export interface Delivery {
  /** `X-GitHub-Delivery`: unique per delivery, the same on a redelivery. */
  readonly deliveryId: string
  /** `X-GitHub-Hook-ID`, when sent. */
  readonly hookId: string | undefined
  /**
   * The installation that the delivery is for (`payload.installation.id`), as a reference of the `Integration`
   * service in the receiver's context: its `requester()` acts as the installation. Undefined when the payload
   * names no installation or no `Integration` was provided.
   */
  readonly installation: InstallationRef | undefined
  /** `payload.installation.id`, whether or not an `Integration` is at hand. */
  readonly installationId: number | undefined
}

/**
 * A delivery of a known event and action, decoded.
 *
 * @since 0.1.0
 * @category models
 */
export interface Event<N extends Name = Name> extends Delivery {
  readonly _tag: "Known"
  /** The event (`X-GitHub-Event`), e.g. `"pull_request"`. */
  readonly name: N extends `${infer E}.${string}` ? E : N
  readonly action: string | undefined
  readonly payload: PayloadOf<N>
}

/**
 * A delivery of an event or action the schemas do not know: name, action and the raw payload.
 *
 * @since 0.1.0
 * @category models
 */
export interface GenericEvent extends Delivery {
  readonly _tag: "Generic"
  readonly name: string
  readonly action: string | undefined
  readonly payload: unknown
}

/**
 * Any delivery, as `onAny` handlers see it.
 *
 * @since 0.1.0
 * @category models
 */
export type AnyEvent = { [E in EventName]: Event<E> }[EventName] | GenericEvent

/**
 * The decoded payload of a delivery, before the delivery fields are added.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decoded {
  readonly _tag: "Known" | "Generic"
  readonly name: string
  readonly action: string | undefined
  readonly payload: unknown
}

const schemas = Generated.events as unknown as Readonly<
  Record<string, { readonly actions: ReadonlyArray<string>; readonly schema: Schema.Schema<any, any> }>
>

const decoders = new Map<string, (u: unknown) => Effect.Effect<unknown, ParseResult.ParseError>>()
const decoderOf = (name: string, schema: Schema.Schema<any, any>) => {
  let decoder = decoders.get(name)
  if (decoder === undefined) {
    // Excess properties are kept: the types name what the spec knows, the payload keeps all GitHub sent.
    decoder = Schema.decodeUnknown(schema, { onExcessProperty: "preserve", errors: "first" })
    decoders.set(name, decoder)
  }
  return decoder
}

/**
 * Whether the schemas know an event (and, when given, its action).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isKnown = (name: string, action?: string | undefined): boolean => {
  const entry = Object.hasOwn(schemas, name) ? schemas[name] : undefined
  if (entry === undefined) return false
  return entry.actions.length === 0 || (action !== undefined && entry.actions.includes(action))
}

/**
 * The names of every known event.
 *
 * @since 0.1.0
 * @category constants
 */
export const eventNames: ReadonlyArray<string> = Object.keys(schemas)

/**
 * Decodes a payload by event name: a known event and action with its schema (failing with the path where it
 * does not match), anything else as a generic event.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (
  name: string,
  payload: unknown,
  deliveryId?: string | undefined
): Effect.Effect<Decoded, WebhookDecodeError> => {
  const action = payload !== null && typeof payload === "object" && typeof (payload as any).action === "string"
    ? (payload as { action: string }).action
    : undefined
  if (!isKnown(name, action)) return Effect.succeed({ _tag: "Generic", name, action, payload })
  const entry = schemas[name]!
  return decoderOf(name, entry.schema)(payload).pipe(
    Effect.map((decoded): Decoded => ({ _tag: "Known", name, action, payload: decoded })),
    Effect.mapError((error) => {
      const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
      return new WebhookDecodeError({
        event: name,
        action,
        path: (issue?.path ?? []).map((key) => typeof key === "symbol" ? String(key) : key),
        issue: issue?.message ?? error.message,
        deliveryId
      })
    })
  )
}
