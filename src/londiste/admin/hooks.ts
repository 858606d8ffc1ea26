/** What Londiste adds to create-* and takeover: filled in by the admin work. */
import type { AdminHooks } from '../../cascade/admin/hooks.js';

export const londisteAdminHooks: AdminHooks = {};
