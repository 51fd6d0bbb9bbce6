/**
 * Typed errors for every way a webhook delivery can be refused: each names what was wrong and the HTTP status a
 * receiver answers with. None of them holds a secret or a signature's expected value.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A header GitHub always sends (`X-GitHub-Event`, `X-GitHub-Delivery`) is missing or empty: 400.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookHeaderMissing extends Schema.TaggedError<WebhookHeaderMissing>(
  "@effect-github/webhooks/WebhookHeaderMissing"
)("WebhookHeaderMissing", { header: Schema.String }) {
  /** @since 0.1.0 */
  readonly status = 400
  /** @since 0.1.0 */
  override get message(): string {
    return `The delivery has no ${this.header} header: it did not come from GitHub, or a proxy dropped the header.`
  }
}

/**
 * No `X-Hub-Signature-256` (nor, when SHA-1 is allowed, `X-Hub-Signature`): 401. GitHub sends one whenever the
 * webhook has a secret: set the same secret on the app and on this receiver.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookSignatureMissing extends Schema.TaggedError<WebhookSignatureMissing>(
  "@effect-github/webhooks/WebhookSignatureMissing"
)("WebhookSignatureMissing", { deliveryId: Schema.optional(Schema.String) }) {
  /** @since 0.1.0 */
  readonly status = 401
  /** @since 0.1.0 */
  override get message(): string {
    return "The delivery has no X-Hub-Signature-256 header: set a webhook secret in the app's settings."
  }
}

/**
 * The signature header is not `<algorithm>=<hex digest>` of the algorithm's length: 401.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookSignatureMalformed extends Schema.TaggedError<WebhookSignatureMalformed>(
  "@effect-github/webhooks/WebhookSignatureMalformed"
)("WebhookSignatureMalformed", { header: Schema.String, deliveryId: Schema.optional(Schema.String) }) {
  /** @since 0.1.0 */
  readonly status = 401
  /** @since 0.1.0 */
  override get message(): string {
    return `The ${this.header} header is not of the form sha256=<64 hex digits>.`
  }
}

/**
 * The signature names an algorithm this receiver does not accept (anything but `sha256`, or `sha1` unless
 * `allowSha1`): 401.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookUnsupportedAlgorithm extends Schema.TaggedError<WebhookUnsupportedAlgorithm>(
  "@effect-github/webhooks/WebhookUnsupportedAlgorithm"
)("WebhookUnsupportedAlgorithm", { algorithm: Schema.String, deliveryId: Schema.optional(Schema.String) }) {
  /** @since 0.1.0 */
  readonly status = 401
  /** @since 0.1.0 */
  override get message(): string {
    return this.algorithm === "sha1"
      ? "The delivery is signed with SHA-1 only (X-Hub-Signature), which is refused unless allowSha1 is set."
      : `The signature's algorithm ${JSON.stringify(this.algorithm.slice(0, 32))} is not supported (sha256 is).`
  }
}

/**
 * The signature does not match the body under any configured secret: 401. The body was changed (a proxy that
 * re-serialises JSON does), or the secret differs from the app's.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookSignatureMismatch extends Schema.TaggedError<WebhookSignatureMismatch>(
  "@effect-github/webhooks/WebhookSignatureMismatch"
)("WebhookSignatureMismatch", {
  algorithm: Schema.String,
  secretsTried: Schema.Number,
  deliveryId: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly status = 401
  /** @since 0.1.0 */
  override get message(): string {
    return `The ${this.algorithm} signature matches the body under none of the ${this.secretsTried} secret(s): ` +
      "check the secret, and that nothing between GitHub and here changes the body."
  }
}

/**
 * The body is over the cap (GitHub's own is 25 MB; GitHub drops larger payloads before sending): 413.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookPayloadTooLarge extends Schema.TaggedError<WebhookPayloadTooLarge>(
  "@effect-github/webhooks/WebhookPayloadTooLarge"
)("WebhookPayloadTooLarge", { limit: Schema.Number, deliveryId: Schema.optional(Schema.String) }) {
  /** @since 0.1.0 */
  readonly status = 413
  /** @since 0.1.0 */
  override get message(): string {
    return `The delivery's body is over ${this.limit} bytes.`
  }
}

/**
 * The body is not JSON (or, when form bodies are accepted, `application/x-www-form-urlencoded` with a `payload`
 * field): 415.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookUnsupportedMediaType extends Schema.TaggedError<WebhookUnsupportedMediaType>(
  "@effect-github/webhooks/WebhookUnsupportedMediaType"
)("WebhookUnsupportedMediaType", {
  contentType: Schema.optional(Schema.String),
  deliveryId: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly status = 415
  /** @since 0.1.0 */
  override get message(): string {
    return `The delivery's content type ${JSON.stringify(this.contentType ?? "(none)")} is not accepted: set the ` +
      "webhook's content type to application/json, or accept form bodies with formEncoded: true."
  }
}

/**
 * The verified body does not parse as JSON (or a form body has no `payload`): 400.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookPayloadInvalid extends Schema.TaggedError<WebhookPayloadInvalid>(
  "@effect-github/webhooks/WebhookPayloadInvalid"
)("WebhookPayloadInvalid", { reason: Schema.String, deliveryId: Schema.optional(Schema.String) }) {
  /** @since 0.1.0 */
  readonly status = 400
  /** @since 0.1.0 */
  override get message(): string {
    return `The delivery's payload is not usable: ${this.reason}.`
  }
}

/**
 * A known event whose payload does not match its schema: `path` is where (e.g. `["pull_request", "number"]`),
 * `issue` what the schema expected. 400.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookDecodeError extends Schema.TaggedError<WebhookDecodeError>(
  "@effect-github/webhooks/WebhookDecodeError"
)("WebhookDecodeError", {
  event: Schema.String,
  action: Schema.optional(Schema.String),
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  issue: Schema.String,
  deliveryId: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly status = 400
  /** @since 0.1.0 */
  override get message(): string {
    const name = this.action === undefined ? this.event : `${this.event}.${this.action}`
    const at = this.path.length === 0 ? "the payload" : this.path.join(".")
    return `The ${name} payload does not match its schema at ${at}: ${this.issue}`
  }
}

/**
 * The dedupe store could not say whether a delivery is new: 503, so GitHub records a failed delivery that
 * `redeliverFailed` can ask for again.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeliveryStoreError extends Schema.TaggedError<DeliveryStoreError>(
  "@effect-github/webhooks/DeliveryStoreError"
)("DeliveryStoreError", { description: Schema.String, cause: Schema.optional(Schema.Defect) }) {
  /** @since 0.1.0 */
  readonly status = 503
  /** @since 0.1.0 */
  override get message(): string {
    return `The delivery store failed: ${this.description}`
  }
}

/**
 * The receiver is closing (its scope is closing) and takes no new deliveries: 503, so GitHub records a failure
 * that can be redelivered.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookReceiverClosed extends Schema.TaggedError<WebhookReceiverClosed>(
  "@effect-github/webhooks/WebhookReceiverClosed"
)("WebhookReceiverClosed", {}) {
  /** @since 0.1.0 */
  readonly status = 503
  /** @since 0.1.0 */
  override get message(): string {
    return "The webhook receiver is shutting down."
  }
}

/**
 * Any signature failure.
 *
 * @since 0.1.0
 * @category models
 */
export type VerifyError =
  | WebhookSignatureMissing
  | WebhookSignatureMalformed
  | WebhookUnsupportedAlgorithm
  | WebhookSignatureMismatch
  | WebhookPayloadTooLarge

/**
 * Any reason a delivery is refused.
 *
 * @since 0.1.0
 * @category models
 */
export type ReceiveError =
  | VerifyError
  | WebhookHeaderMissing
  | WebhookUnsupportedMediaType
  | WebhookPayloadInvalid
  | WebhookDecodeError
  | DeliveryStoreError
  | WebhookReceiverClosed
