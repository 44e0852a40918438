-- key-vault audit (issue 17): `actor` is who authenticated; what the caller claimed about itself
-- (X-Cogo-Actor) is kept apart in `claimed_actor`, never trusted.
ALTER TABLE vault_audit ADD COLUMN IF NOT EXISTS claimed_actor text;
