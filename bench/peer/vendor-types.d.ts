/**
 * The few parts of oidc-provider (v9 ships no type declarations) the peer process uses.
 */
declare module 'oidc-provider' {
  import type { Server } from 'node:http';

  interface ClientInstance {
    clientId: string;
  }
  interface GrantInstance {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }
  interface RefreshTokenInstance {
    save(): Promise<string>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number): Server;
    Client: { find(id: string): Promise<ClientInstance | undefined> };
    Grant: new (init: { accountId: string; clientId: string }) => GrantInstance;
    RefreshToken: new (init: Record<string, unknown>) => RefreshTokenInstance;
  }
}
