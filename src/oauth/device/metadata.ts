/** Discovery field of the device authorization grant (RFC 8628 §4), added by the route table. */
import type { Config } from '../../config';
import type { MetadataExtension } from '../metadata';

/** RFC 8628 §3.1: where the device asks for its codes. */
export const DEVICE_AUTHORIZATION_PATH = '/device/authorization';
/** RFC 8628 §3.2 verification_uri: the page where the user enters the code. */
export const DEVICE_VERIFICATION_PATH = '/device';

export function deviceMetadata(config: Pick<Config, 'issuer'>): MetadataExtension {
  return {
    set: { device_authorization_endpoint: `${config.issuer}${DEVICE_AUTHORIZATION_PATH}` },
  };
}
