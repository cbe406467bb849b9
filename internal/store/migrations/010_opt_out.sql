-- Why and since when an office is marked do-not-contact (an office's own
-- one-click opt-out, or staff), and replies that ask to stop (a mail to
-- the List-Unsubscribe address), which wait for staff.
ALTER TABLE targets ADD COLUMN do_not_contact_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE targets ADD COLUMN do_not_contact_at TEXT NOT NULL DEFAULT '';
ALTER TABLE replies ADD COLUMN opt_out INTEGER NOT NULL DEFAULT 0;
