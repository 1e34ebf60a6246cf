/**
 * Discovery fields of OpenID Connect Back-Channel Logout 1.0 (§2.1): logout tokens are sent to
 * clients that register a backchannel_logout_uri, and they carry `sid` whenever the login
 * happened in a browser session (every ID token of such a login carries the same `sid`).
 */
import type { MetadataExtension } from '../metadata';

export function backchannelLogoutMetadata(): MetadataExtension {
  return {
    set: { backchannel_logout_supported: true, backchannel_logout_session_supported: true },
  };
}
