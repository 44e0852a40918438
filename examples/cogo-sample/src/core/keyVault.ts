/**
 * Key vault helper: AES-256-GCM encryption of provider API keys before they
 * are stored in the `secrets` table. The master key comes from env and is
 * stretched per tenant with scrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { CogoError } from './errors.js';

export interface EncryptedSecret {
  iv: string;
  tag: string;
  ciphertext: string;
  keyVersion: number;
}

export class KeyVault {
  private readonly masterKey: string;
  private readonly keyVersion: number;

  constructor(masterKey: string, keyVersion = 1) {
    if (masterKey.length < 16) throw new CogoError('WEAK_MASTER_KEY', 'master key must be at least 16 chars');
    this.masterKey = masterKey;
    this.keyVersion = keyVersion;
  }

  /** Derive the per-tenant data key from the master key. */
  private deriveKey(tenantId: string): Buffer {
    return scryptSync(this.masterKey, `cogo:${tenantId}:v${this.keyVersion}`, 32);
  }

  encrypt(tenantId: string, plaintext: string): EncryptedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.deriveKey(tenantId), iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      keyVersion: this.keyVersion,
    };
  }

  decrypt(tenantId: string, secret: EncryptedSecret): string {
    if (secret.keyVersion !== this.keyVersion) {
      throw new CogoError('KEY_VERSION_MISMATCH', `secret uses key v${secret.keyVersion}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.deriveKey(tenantId), Buffer.from(secret.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(secret.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(secret.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }

  /** Re-encrypt a secret under a new vault (key rotation). */
  rotate(tenantId: string, secret: EncryptedSecret, next: KeyVault): EncryptedSecret {
    return next.encrypt(tenantId, this.decrypt(tenantId, secret));
  }
}

export const maskSecret = (value: string): string =>
  value.length <= 8 ? '****' : `${value.slice(0, 4)}…${value.slice(-4)}`;
