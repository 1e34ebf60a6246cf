/**
 * Discovery fields of the authorization code flow (RFC 8414 §2, OIDC Discovery §3,
 * RFC 9207 §3, RP-Initiated Logout §2.1, RFC 9126 §5), added to the document by the route table.
 */
import type { Config } from '../../config';
import type { MetadataExtension } from '../metadata';

export const AUTHORIZATION_PATH = '/authorize';
export const END_SESSION_PATH = '/session/end';
export const PAR_PATH = '/par';

export function authorizationMetadata(
  config: Pick<Config, 'issuer' | 'REQUIRE_PUSHED_AUTHORIZATION_REQUESTS'>,
): MetadataExtension {
  return {
    set: {
      authorization_endpoint: `${config.issuer}${AUTHORIZATION_PATH}`,
      // RFC 9126 §5.
      pushed_authorization_request_endpoint: `${config.issuer}${PAR_PATH}`,
      require_pushed_authorization_requests: config.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS,
      end_session_endpoint: `${config.issuer}${END_SESSION_PATH}`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    },
    append: { grant_types_supported: ['authorization_code'] },
  };
}
