/**
 * A synchronous read of `InstallationTokens`' cache, for callers outside Effect (the Promise facade): a fresh
 * whole-installation token without starting a fiber.
 */
import type { InstallationAuthorization } from "../InstallationAuthorization.js"
import type { Service, TokenScope } from "../InstallationTokens.js"

/** The fresh cached token of the installation and scope at `now` (epoch ms, the layer's clock), or undefined. */
export type UnsafeGet = (
  installationId: number,
  scope: TokenScope | undefined,
  now: number
) => InstallationAuthorization | undefined

const readers = new WeakMap<Service, UnsafeGet>()

export const register = (service: Service, read: UnsafeGet): void => {
  readers.set(service, read)
}

/** The service's synchronous reader; undefined for a service not built by `InstallationTokens.make`. */
export const unsafeGet = (service: Service): UnsafeGet | undefined => readers.get(service)
