/**
 * One call from `NodeIntegration`'s options to a Promise client on Node (`IntegrationClient`): for handlers,
 * scripts and frameworks that do not run Effect.
 *
 * @example
 * ```ts
 * import { NodeIntegrationClient } from "@effect-github/node"
 *
 * await using github = NodeIntegrationClient.make({
 *   appId: 123456,
 *   privateKey: process.env.GITHUB_APP_PRIVATE_KEY ?? ""
 * })
 * const { token } = await github.getAccessToken(42)
 * ```
 *
 * @since 0.2.0
 */
import * as IntegrationClient from "@effect-github/app/IntegrationClient"
import * as NodeIntegration from "./NodeIntegration.js"

/**
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: NodeIntegration.Options): IntegrationClient.IntegrationClient =>
  IntegrationClient.make(NodeIntegration.layer(options))

/**
 * Like `make`, with the credentials from the environment (as `NodeIntegration.layerConfig`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromEnv = (options: Partial<NodeIntegration.Options> = {}): IntegrationClient.IntegrationClient =>
  IntegrationClient.make(NodeIntegration.layerConfig(options))
