-- A small Zulip organization with the awkward data real servers hold; load schema.sql
-- first. README.md lists what each row is there to exercise. Ids are fixed so the
-- preset test can name the records it expects.

INSERT INTO zerver_realm (id, name, description, string_id, uuid, date_created, deactivated, org_type) VALUES
  (1, 'Acme Corp', 'The **Acme** organization', 'acme', gen_random_uuid(), '2023-01-01 00:00:00+00', false, 10),
  (2, 'System bot realm', '', 'zulipinternal', gen_random_uuid(), '2022-12-31 00:00:00+00', false, 0);

INSERT INTO zerver_client (id, name) VALUES (1, 'website'), (2, 'ZulipMobile'), (3, 'Internal');

-- Every user has a personal recipient (type 1, type_id = the user's id).
INSERT INTO zerver_recipient (id, type, type_id)
SELECT 100 + u, 1, u FROM unnest(ARRAY[1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]) AS u;
-- Streams (type 2) and the direct message group (type 3).
INSERT INTO zerver_recipient (id, type, type_id) VALUES (201, 2, 1), (202, 2, 2), (203, 2, 3), (204, 2, 4), (301, 3, 1);

INSERT INTO zerver_userprofile (id, password, last_login, is_superuser, delivery_email, email, full_name,
    date_joined, api_key, uuid, is_staff, is_active, is_billing_admin, is_bot, bot_type, role,
    long_term_idle, is_mirror_dummy, timezone, bot_owner_id, realm_id, recipient_id) VALUES
  -- the cross-realm system bots of the zulipinternal realm
  (1, '!', NULL, false, 'notification-bot@zulip.com', 'notification-bot@zulip.com', 'Notification Bot',
   '2022-12-31 00:00:00+00', lpad('1', 32, 'k'), gen_random_uuid(), false, true, false, true, 1, 400, false, false, '', NULL, 2, 101),
  (2, '!', NULL, false, 'welcome-bot@zulip.com', 'welcome-bot@zulip.com', 'Welcome Bot',
   '2022-12-31 00:00:00+00', lpad('2', 32, 'k'), gen_random_uuid(), false, true, false, true, 1, 400, false, false, '', NULL, 2, 102),
  (10, 'pbkdf2_sha256$x', '2024-03-05 08:00:00+00', false, 'iago@acme.example', 'iago@acme.example', 'Iago',
   '2023-01-01 00:00:00+00', lpad('10', 32, 'k'), gen_random_uuid(), false, true, true, false, NULL, 100, false, false, 'Europe/Rome', NULL, 1, 110),
  (11, 'pbkdf2_sha256$x', NULL, false, 'desdemona@acme.example', 'user11@acme.example', 'Desdemona',
   '2023-01-02 00:00:00+00', lpad('11', 32, 'k'), gen_random_uuid(), false, true, false, false, NULL, 200, false, false, '', NULL, 1, 111),
  (12, 'pbkdf2_sha256$x', NULL, false, 'othello@acme.example', 'othello@acme.example', 'Othello, the Moor of Venice',
   '2023-01-03 00:00:00+00', lpad('12', 32, 'k'), gen_random_uuid(), false, true, false, false, NULL, 300, false, false, '', NULL, 1, 112),
  (13, 'pbkdf2_sha256$x', NULL, false, 'cordelia@acme.example', 'cordelia@acme.example', 'Cordelia, Lear''s daughter',
   '2023-01-04 00:00:00+00', lpad('13', 32, 'k'), gen_random_uuid(), false, true, false, false, NULL, 400, false, false, '', NULL, 1, 113),
  (14, 'pbkdf2_sha256$x', NULL, false, 'hamlet@acme.example', 'hamlet@acme.example', 'King Hamlet',
   '2023-01-05 00:00:00+00', lpad('14', 32, 'k'), gen_random_uuid(), false, true, false, false, NULL, 400, false, false, '', NULL, 1, 114),
  (15, 'pbkdf2_sha256$x', NULL, false, 'polonius@partner.example', 'polonius@partner.example', 'Polonius',
   '2024-01-15 00:00:00+00', lpad('15', 32, 'k'), gen_random_uuid(), false, true, false, false, NULL, 600, false, false, '', NULL, 1, 115),
  (16, '!', NULL, false, 'lear@acme.example', 'lear@acme.example', 'King Lear',
   '2022-06-01 00:00:00+00', lpad('16', 32, 'k'), gen_random_uuid(), false, false, false, false, NULL, 400, true, false, '', NULL, 1, 116),
  (17, 'pbkdf2_sha256$x', NULL, false, 'zoe@acme.example', 'zoe@acme.example', 'Zoë 🦊 Ünïcode',
   '2023-02-01 00:00:00+00', lpad('17', 32, 'k'), gen_random_uuid(), false, true, false, false, NULL, 400, false, false, 'Asia/Tokyo', NULL, 1, 117),
  (18, '!', NULL, false, 'standup-bot@acme.example', 'standup-bot@acme.example', 'Standup Bot',
   '2023-03-01 00:00:00+00', lpad('18', 32, 'k'), gen_random_uuid(), false, true, false, true, 1, 400, false, false, '', 10, 1, 118),
  (19, '!', NULL, false, 'trivia-bot@acme.example', 'trivia-bot@acme.example', 'Trivia Bot',
   '2023-03-02 00:00:00+00', lpad('19', 32, 'k'), gen_random_uuid(), false, true, false, true, 4, 400, false, false, '', 17, 1, 119);

-- User groups: the system groups of the realm (role:owners inside role:administrators),
-- a named group "leads", and the anonymous group that administers #engineering: Hamlet
-- directly and "leads" (Othello) as a subgroup.
INSERT INTO zerver_usergroup (id, realm_id) VALUES (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1);
INSERT INTO zerver_namedusergroup (usergroup_ptr_id, name, description, is_system_group, can_mention_group_id, realm_id) VALUES
  (1, 'role:owners', 'Owners of this organization', true, 4, 1),
  (2, 'role:administrators', 'Administrators of this organization, including owners', true, 4, 1),
  (3, 'role:everyone', 'Everyone in this organization, including guests', true, 4, 1),
  (4, 'role:nobody', 'Nobody', true, 4, 1),
  (6, 'leads', 'Team leads', false, 3, 1);
INSERT INTO zerver_usergroupmembership (user_group_id, user_profile_id) VALUES
  (1, 10), (2, 11), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14), (3, 15), (3, 17), (3, 18), (3, 19),
  (5, 14), (6, 12);
INSERT INTO zerver_groupgroupmembership (supergroup_id, subgroup_id) VALUES (2, 1), (5, 6);

INSERT INTO zerver_stream (id, name, realm_id, date_created, creator_id, deactivated, description,
    rendered_description, recipient_id, invite_only, history_public_to_subscribers, is_web_public,
    is_in_zephyr_realm, message_retention_days, can_add_subscribers_group_id,
    can_administer_channel_group_id, can_remove_subscribers_group_id, can_send_message_group_id,
    can_subscribe_group_id, first_message_id, topics_policy) VALUES
  (1, 'engineering', 1, '2023-01-01 00:00:00+00', 10, false, 'Engineering **all** the things',
   '<p>Engineering <strong>all</strong> the things</p>', 201, false, true, false, false, NULL, 4, 5, 2, 3, 4, 1001, 1),
  (2, 'design & ux', 1, '2023-01-02 00:00:00+00', 11, false, 'Private: design reviews',
   '<p>Private: design reviews</p>', 202, true, true, false, false, NULL, 4, 2, 2, 3, 4, 2001, 1),
  (3, 'legacy-archive', 1, '2022-06-01 00:00:00+00', 16, true, 'Old project (archived)',
   '<p>Old project (archived)</p>', 203, false, true, false, false, NULL, 4, 4, 2, 3, 4, 3001, 1),
  -- created with the realm, by nobody (creator NULL), as Zulip's default streams are
  (4, 'general', 1, '2023-01-01 00:00:00+00', NULL, false, '',
   '', 204, false, true, false, false, NULL, 4, 4, 2, 3, 4, 6001, 1);

INSERT INTO zerver_huddle (id, huddle_hash, recipient_id, group_size) VALUES
  (1, '539a7faf91fcc7d152f4b2ca007bdefc40188b34', 301, 4);  -- sha1('10,13,14,17')

-- Subscriptions: each user to its personal recipient (as Zulip creates them), the
-- streams, and the direct message group. Trivia Bot left #engineering (active false);
-- King Lear is deactivated (is_user_active false).
INSERT INTO zerver_subscription (active, is_user_active, is_muted, color, pin_to_top, recipient_id, user_profile_id)
SELECT true, u.is_active, false, '#c2c2c2', false, u.recipient_id, u.id FROM zerver_userprofile u;
INSERT INTO zerver_subscription (active, is_user_active, is_muted, color, pin_to_top, recipient_id, user_profile_id) VALUES
  (true, true, false, '#76ce90', true, 201, 10), (true, true, false, '#76ce90', false, 201, 11),
  (true, true, false, '#76ce90', false, 201, 12), (true, true, false, '#76ce90', false, 201, 13),
  (true, true, false, '#76ce90', false, 201, 14), (true, true, false, '#76ce90', false, 201, 15),
  (true, false, false, '#76ce90', false, 201, 16), (true, true, true, '#76ce90', false, 201, 17),
  (true, true, false, '#76ce90', false, 201, 18), (false, true, false, '#76ce90', false, 201, 19),
  (true, true, false, '#e79ab5', false, 202, 11), (true, true, false, '#e79ab5', false, 202, 10),
  (true, true, false, '#e79ab5', false, 202, 13), (true, true, false, '#e79ab5', false, 202, 17),
  (true, true, false, '#e79ab5', false, 202, 15),
  (true, false, false, '#a6c7e5', false, 203, 16), (true, true, false, '#a6c7e5', false, 203, 14),
  (true, true, false, '#a6c7e5', false, 203, 13),
  (true, true, false, '#c2c2c2', false, 204, 10), (true, true, false, '#c2c2c2', false, 204, 11),
  (true, true, false, '#c2c2c2', false, 204, 13),
  (true, true, false, '#c2c2c2', false, 301, 10), (true, true, false, '#c2c2c2', false, 301, 13),
  (true, true, false, '#c2c2c2', false, 301, 14), (true, true, false, '#c2c2c2', false, 301, 17);

-- Messages. Channel messages carry their topic in subject ('' is "general chat");
-- direct messages carry Message.DM_TOPIC, the BEL character.
INSERT INTO zerver_message (id, type, subject, content, rendered_content, rendered_content_version, date_sent,
    last_edit_time, edit_history, has_attachment, has_image, has_link, sender_id, sending_client_id,
    realm_id, recipient_id, is_channel_message) VALUES
  -- #engineering
  (1001, 1, 'deploys', 'Deploying **v2.0** to prod at 15:00 UTC. @**Desdemona** please watch the dashboards.', '<p>…</p>', 1,
   '2024-03-01 09:00:00+00', NULL, NULL, false, false, false, 10, 1, 1, 201, true),
  (1002, 1, 'deploys', 'Watching :eyes:', '<p>…</p>', 1, '2024-03-01 09:05:00+00', NULL, NULL, false, false, false, 11, 1, 1, 201, true),
  (1003, 1, 'Deploys', E'Rolled back; see the log\n```\nERROR: connection refused\n```', '<p>…</p>', 1,
   '2024-03-01 09:30:00+00', '2024-03-01 09:35:00+00',
   '[{"user_id": 14, "timestamp": 1709285700, "prev_content": "Rolled back", "prev_rendered_content": "<p>Rolled back</p>", "prev_rendered_content_version": 1}]',
   false, false, false, 14, 2, 1, 201, true),
  (1004, 1, '', 'Morning all! ☕', '<p>Morning all! ☕</p>', 1, '2024-03-01 08:00:00+00', NULL, NULL, false, false, false, 12, 1, 1, 201, true),
  (1005, 1, '🦄 unicorn ideas', 'What if every build had a 🦄 mascot? Ünïcödé: 日本語テキスト', '<p>…</p>', 1,
   '2024-03-01 10:00:00+00', NULL, NULL, false, false, false, 17, 1, 1, 201, true),
  (1006, 1, 'standup', E'**Standup summary**\n* Iago: deploys\n* Hamlet: rollback', '<p>…</p>', 1,
   '2024-03-01 12:00:00+00', NULL, NULL, false, false, false, 18, 3, 1, 201, true),
  (1007, 1, 'deploys', 'I am a man more sinned against than sinning.', '<p>…</p>', 1,
   '2024-03-01 10:30:00+00', NULL, NULL, false, false, false, 16, 1, 1, 201, true),
  (1008, 1, 'deploys', 'Here is the runbook: [runbook.pdf](/user_uploads/1/4e/AbCdEf/runbook.pdf) and the graph [graph.png](/user_uploads/1/9a/XyZ/graph.png)', '<p>…</p>', 1,
   '2024-03-01 11:00:00+00', NULL, NULL, true, true, true, 10, 1, 1, 201, true),
  (1009, 1, 'standup', 'Status report: ' || repeat('ö', 6500), NULL, NULL,
   '2024-03-01 12:30:00+00', NULL, NULL, false, false, false, 13, 1, 1, 201, true),
  (1010, 2, 'deploys', '@_**Iago|10** has marked this topic as resolved.', '<p>…</p>', 1,
   '2024-03-01 13:00:00+00', NULL, NULL, false, false, false, 1, 3, 1, 201, true),
  (1011, 1, 'deploys', 'Neither a borrower nor a lender be.', '<p>…</p>', 1,
   '2024-03-01 11:30:00+00', NULL, NULL, false, false, false, 15, 1, 1, 201, true),
  (1012, 1, 'a very long topic name about the quarterly roadmap planning', 'Roadmap draft is in the wiki.', '<p>…</p>', 1,
   '2024-03-01 14:00:00+00', NULL, NULL, false, false, false, 12, 1, 1, 201, true),
  -- #design & ux (private)
  (2001, 1, 'deploys', 'Design review of the deploy dashboard tomorrow.', '<p>…</p>', 1,
   '2024-03-02 09:00:00+00', NULL, NULL, false, false, false, 11, 1, 1, 202, true),
  (2002, 1, 'colors 🎨', 'Palette: `#ff6600` / `#0066ff`', '<p>…</p>', 1, '2024-03-02 09:10:00+00', NULL, NULL, false, false, false, 17, 1, 1, 202, true),
  (2003, 1, '', 'Welcome to #**design & ux**!', '<p>…</p>', 1, '2024-03-02 08:00:00+00', NULL, NULL, false, false, true, 10, 1, 1, 202, true),
  (2004, 1, 'colors 🎨', E'> Palette: `#ff6600`\n\nLove it', '<p>…</p>', 1, '2024-03-02 09:20:00+00', NULL, NULL, false, false, false, 13, 2, 1, 202, true),
  (2005, 1, '✔ login bug', 'Fixed in v2.0.1, resolving.', '<p>…</p>', 1, '2024-03-02 10:00:00+00', NULL, NULL, false, false, false, 11, 1, 1, 202, true),
  -- #general (no creator)
  (6001, 1, 'welcome', 'Welcome to **Acme** on Zulip! 👋', '<p>…</p>', 1, '2023-01-01 00:00:00+00', NULL, NULL, false, false, false, 11, 1, 1, 204, true),
  -- #legacy-archive (deactivated)
  (3001, 1, 'history', 'This channel is archived.', '<p>…</p>', 1, '2023-01-10 10:00:00+00', NULL, NULL, false, false, false, 16, 1, 1, 203, true),
  (3002, 1, 'history', 'To be, or not to be', '<p>…</p>', 1, '2023-01-11 10:00:00+00', NULL, NULL, false, false, false, 14, 1, 1, 203, true),
  -- the direct message group of Iago, Cordelia, Hamlet and Zoë
  (4001, 1, E'\x07', 'Lunch? 🍕', '<p>…</p>', 1, '2024-03-03 12:00:00+00', NULL, NULL, false, false, false, 10, 2, 1, 301, false),
  (4002, 1, E'\x07', 'Yes!', '<p>…</p>', 1, '2024-03-03 12:01:00+00', NULL, NULL, false, false, false, 13, 2, 1, 301, false),
  (4003, 1, E'\x07', 'Count me in — @**King Hamlet** too?', '<p>…</p>', 1, '2024-03-03 12:02:00+00', NULL, NULL, false, false, false, 17, 1, 1, 301, false),
  -- one-to-one direct messages (recipient = the personal recipient of the other user)
  (5001, 1, E'\x07', 'Hi Cordelia, can you review PR #42?', '<p>…</p>', 1, '2024-03-04 10:00:00+00', NULL, NULL, false, false, false, 10, 1, 1, 113, false),
  (5002, 1, E'\x07', 'Sure, on it.', '<p>…</p>', 1, '2024-03-04 10:05:00+00', '2024-03-04 10:06:00+00',
   '[{"user_id": 13, "timestamp": 1709546760, "prev_content": "Sure", "prev_rendered_content": "<p>Sure</p>", "prev_rendered_content_version": 1}]',
   false, false, false, 13, 1, 1, 110, false),
  (5003, 1, E'\x07', 'Note to self: buy skulls', '<p>…</p>', 1, '2024-03-04 11:00:00+00', NULL, NULL, false, false, false, 14, 1, 1, 114, false),
  (5004, 1, E'\x07', 'Hello, and welcome to Zulip!👋', '<p>…</p>', 1, '2024-02-01 00:00:00+00', NULL, NULL, false, false, false, 2, 3, 1, 115, false),
  (5005, 1, E'\x07', 'The signed contract: [contract.docx](/user_uploads/1/aa/Qq/contract.docx)', '<p>…</p>', 1,
   '2024-03-04 12:00:00+00', NULL, NULL, true, false, true, 15, 1, 1, 110, false),
  (5006, 1, E'\x07', 'Nothing will come of nothing.', '<p>…</p>', 1, '2023-06-01 00:00:00+00', NULL, NULL, false, false, false, 16, 1, 1, 113, false),
  (5007, 1, E'\x07', 'Q: What is 6×7? A: 42', '<p>…</p>', 1, '2024-03-05 09:00:00+00', NULL, NULL, false, false, false, 19, 3, 1, 117, false);

-- Reactions: unicode emoji (emoji_code = the code points), a custom realm emoji
-- (emoji_code = the RealmEmoji id).
INSERT INTO zerver_reaction (emoji_name, reaction_type, emoji_code, message_id, user_profile_id) VALUES
  ('+1', 'unicode_emoji', '1f44d', 1002, 10),
  ('+1', 'unicode_emoji', '1f44d', 1002, 12),
  ('shipit', 'realm_emoji', '7', 1002, 14),
  ('heart', 'unicode_emoji', '2764', 2004, 17),
  ('+1', 'unicode_emoji', '1f44d', 4003, 14),
  ('heart', 'unicode_emoji', '2764', 5005, 10),
  ('shipit', 'realm_emoji', '7', 5005, 15);

INSERT INTO zerver_attachment (id, file_name, path_id, create_time, size, content_type, is_realm_public,
    is_web_public, owner_id, realm_id) VALUES
  (1, 'runbook.pdf', '1/4e/AbCdEf/runbook.pdf', '2024-03-01 10:59:00+00', 52000, 'application/pdf', true, false, 10, 1),
  (2, 'graph.png', '1/9a/XyZ/graph.png', '2024-03-01 10:59:30+00', 20480, 'image/png', true, false, 10, 1),
  (3, 'contract.docx', '1/aa/Qq/contract.docx', '2024-03-04 11:59:00+00', 31337, NULL, false, false, 15, 1),
  (4, 'unclaimed.txt', '1/bb/Zz/unclaimed.txt', '2024-03-04 11:59:00+00', 12, 'text/plain', NULL, NULL, 15, 1);
INSERT INTO zerver_attachment_messages (attachment_id, message_id) VALUES (1, 1008), (2, 1008), (3, 5005);
INSERT INTO zerver_imageattachment (path_id, content_type, original_width_px, original_height_px, frames, thumbnail_metadata, realm_id) VALUES
  ('1/9a/XyZ/graph.png', 'image/png', 800, 600, 1, '[]', 1);

-- UserMessage: a row per recipient of every message; flags bit 0 = read, bit 3 =
-- mentioned, bit 11 = is_private. Unread: Cordelia has not read 1008 and 1011 in
-- #engineering, Zoë not 2004 in #design & ux, Hamlet not 4003 in the group DM.
INSERT INTO zerver_usermessage (flags, message_id, user_profile_id)
SELECT CASE WHEN (s.user_profile_id, m.id) IN ((13, 1008), (13, 1011), (17, 2004), (14, 4003)) THEN 0 ELSE 1 END
       | CASE WHEN (s.user_profile_id, m.id) = (11, 1001) THEN 8 ELSE 0 END
       | CASE WHEN r.type = 3 THEN 2048 ELSE 0 END,
       m.id, s.user_profile_id
FROM zerver_message m
JOIN zerver_recipient r ON r.id = m.recipient_id AND r.type IN (2, 3)
JOIN zerver_subscription s ON s.recipient_id = m.recipient_id AND s.active;
INSERT INTO zerver_usermessage (flags, message_id, user_profile_id)
SELECT 1 | 2048, m.id, u.id
FROM zerver_message m
JOIN zerver_recipient r ON r.id = m.recipient_id AND r.type = 1
JOIN zerver_userprofile u ON u.id IN (m.sender_id, r.type_id)
WHERE u.realm_id = 1;
