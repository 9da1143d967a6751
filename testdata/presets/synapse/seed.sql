-- A small Synapse homeserver (server_name example.org) in Synapse's own schema
-- (schema.sql), written the way Synapse writes it: every event is an events row
-- and an event_json row with the event's JSON; a state event also has its
-- state_events row and moves current_state_events; a membership event has its
-- room_memberships row (and local_current_membership for local users); a
-- relation has its event_relations row, a redaction its redactions row; and
-- room_stats_state is derived from the current state at the end. README.md
-- lists what each room and user plants and what the preset should make of it.
--
-- Event ids have the room-version-4+ shape: "$" and the unpadded URL-safe
-- base64 of a SHA-256, here of a short key ('$' || b64(sha256('dm_reply'))),
-- so the test can name an event by its key.

CREATE FUNCTION pg_temp.eid(key text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT '$' || rtrim(translate(encode(sha256(convert_to(key, 'UTF8')), 'base64'), '+/', '-_'), '=')
$$;

-- The clock: each event is a minute after the previous one unless it says its
-- own time (a federated server's clock may say anything).
CREATE TEMP TABLE clock (now_ms bigint NOT NULL);
INSERT INTO clock VALUES (1700000000000);

-- ev stores one event. content may name other events as <<key>>.
CREATE FUNCTION pg_temp.ev(key text, room text, etype text, from_user text, content text,
                           skey text DEFAULT NULL, ts bigint DEFAULT NULL, outl boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  id text := pg_temp.eid(key);
  ref text;
  c jsonb;
  so bigint;
  d bigint;
  prev text;
  js jsonb;
  origin text := substr(from_user, strpos(from_user, ':') + 1);
BEGIN
  LOOP
    ref := substring(content from '<<([A-Za-z0-9_]+)>>');
    EXIT WHEN ref IS NULL;
    content := replace(content, '<<' || ref || '>>', pg_temp.eid(ref));
  END LOOP;
  c := content::jsonb;
  IF ts IS NULL THEN
    UPDATE clock SET now_ms = now_ms + 60000 RETURNING now_ms INTO ts;
  END IF;
  SELECT COALESCE(max(stream_ordering), 0) + 1 INTO so FROM events;
  SELECT COALESCE(max(e.depth), 0) + 1 INTO d FROM events e WHERE e.room_id = room AND NOT e.outlier;
  SELECT e.event_id INTO prev FROM events e WHERE e.room_id = room AND NOT e.outlier ORDER BY e.stream_ordering DESC LIMIT 1;
  js := jsonb_build_object(
    'auth_events', '[]'::jsonb,
    'prev_events', CASE WHEN prev IS NULL OR outl THEN '[]'::jsonb ELSE jsonb_build_array(prev) END,
    'type', etype, 'room_id', room, 'sender', from_user, 'content', c, 'depth', d,
    'origin_server_ts', ts,
    'hashes', jsonb_build_object('sha256', rtrim(encode(sha256(convert_to(content, 'UTF8')), 'base64'), '=')),
    'signatures', jsonb_build_object(origin, jsonb_build_object('ed25519:a_Xyzw', rtrim(encode(sha256(convert_to(id, 'UTF8')), 'base64'), '='))));
  IF skey IS NOT NULL THEN
    js := js || jsonb_build_object('state_key', skey);
  END IF;
  IF etype = 'm.room.redaction' THEN -- room version 10: redacts is a top-level key
    js := js || jsonb_build_object('redacts', c ->> 'redacts');
  END IF;
  INSERT INTO events (topological_ordering, event_id, type, room_id, content, unrecognized_keys, processed, outlier,
                      depth, origin_server_ts, received_ts, sender, contains_url, instance_name, stream_ordering,
                      state_key, rejection_reason)
  VALUES (d, id, etype, room, NULL, NULL, true, outl, d, ts, ts + 120, from_user,
          jsonb_typeof(c -> 'url') = 'string', 'master', so, skey, NULL);
  INSERT INTO event_json (event_id, room_id, internal_metadata, json, format_version)
  VALUES (id, room, CASE WHEN outl THEN '{"outlier": true}' ELSE '{}' END, js::text, 3);
  IF skey IS NOT NULL AND NOT outl THEN
    INSERT INTO state_events (event_id, room_id, type, state_key, prev_state)
    VALUES (id, room, etype, skey, NULL);
    INSERT INTO current_state_events (event_id, room_id, type, state_key, membership, event_stream_ordering)
    VALUES (id, room, etype, skey, CASE WHEN etype = 'm.room.member' THEN c ->> 'membership' END, so)
    ON CONFLICT (room_id, type, state_key) DO UPDATE
      SET event_id = EXCLUDED.event_id, membership = EXCLUDED.membership, event_stream_ordering = EXCLUDED.event_stream_ordering;
  END IF;
  IF etype = 'm.room.member' THEN
    INSERT INTO room_memberships (event_id, user_id, sender, room_id, membership, forgotten, display_name, avatar_url,
                                  event_stream_ordering, participant)
    VALUES (id, skey, from_user, room, c ->> 'membership', 0, c ->> 'displayname', c ->> 'avatar_url', so, false);
    IF skey LIKE '%:example.org' THEN
      INSERT INTO local_current_membership (room_id, user_id, event_id, membership, event_stream_ordering)
      VALUES (room, skey, id, c ->> 'membership', so)
      ON CONFLICT (user_id, room_id) DO UPDATE
        SET event_id = EXCLUDED.event_id, membership = EXCLUDED.membership, event_stream_ordering = EXCLUDED.event_stream_ordering;
    END IF;
  END IF;
  IF etype IN ('m.room.message', 'm.room.encrypted', 'm.sticker') THEN
    UPDATE room_memberships m SET participant = true
    WHERE m.room_id = room AND m.user_id = from_user
      AND m.event_id = (SELECT cs.event_id FROM current_state_events cs
                        WHERE cs.room_id = room AND cs.type = 'm.room.member' AND cs.state_key = from_user);
  END IF;
  IF c #>> '{m.relates_to,rel_type}' IS NOT NULL THEN
    INSERT INTO event_relations (event_id, relates_to_id, relation_type, aggregation_key)
    VALUES (id, c #>> '{m.relates_to,event_id}', c #>> '{m.relates_to,rel_type}', c #>> '{m.relates_to,key}');
  END IF;
  IF etype = 'm.room.redaction' THEN
    INSERT INTO redactions (event_id, redacts, have_censored, received_ts)
    VALUES (id, c ->> 'redacts', false, ts + 120);
  END IF;
END $$;

-- room creates a room: its rooms row and the state every room starts with.
CREATE FUNCTION pg_temp.room(room text, creator text, key text, join_rule text, create_extra text DEFAULT '{}',
                             creator_name text DEFAULT NULL, public boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO rooms (room_id, is_public, creator, room_version, has_auth_chain_index)
  VALUES (room, public, creator, '10', true);
  PERFORM pg_temp.ev(key || '_create', room, 'm.room.create', creator,
                     (jsonb_build_object('creator', creator, 'room_version', '10') || create_extra::jsonb)::text, '');
  PERFORM pg_temp.ev(key || '_join_' || creator, room, 'm.room.member', creator,
                     json_build_object('membership', 'join', 'displayname', creator_name)::text, creator);
  PERFORM pg_temp.ev(key || '_join_rules', room, 'm.room.join_rules', creator,
                     json_build_object('join_rule', join_rule)::text, '');
  PERFORM pg_temp.ev(key || '_history', room, 'm.room.history_visibility', creator, '{"history_visibility": "shared"}', '');
END $$;

-- member moves a user's membership (join, leave, invite, ban).
CREATE FUNCTION pg_temp.member(key text, room text, usr text, membership text, displayname text DEFAULT NULL,
                               sender text DEFAULT NULL, extra text DEFAULT '{}')
RETURNS void LANGUAGE sql AS $$
  SELECT pg_temp.ev(key, room, 'm.room.member', COALESCE(sender, usr),
                    (jsonb_strip_nulls(jsonb_build_object('membership', membership, 'displayname', displayname)) || extra::jsonb)::text,
                    usr)
$$;

CREATE FUNCTION pg_temp.text(key text, room text, sender text, body text, ts bigint DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
  SELECT pg_temp.ev(key, room, 'm.room.message', sender, json_build_object('msgtype', 'm.text', 'body', body)::text, NULL, ts)
$$;

-- ---- users (local accounts only: Synapse has no users row for other servers' users)

INSERT INTO users (name, password_hash, creation_ts, admin, upgrade_ts, is_guest, appservice_id, consent_version,
                   consent_server_notice_sent, user_type, deactivated, shadow_banned, consent_ts, approved, locked, suspended)
VALUES
  ('@alice:example.org', NULL, 1699900000, 1, NULL, 0, NULL, NULL, NULL, NULL, 0, false, NULL, true, false, false),
  ('@bob:example.org', NULL, 1699900100, 0, NULL, 0, NULL, NULL, NULL, NULL, 0, false, NULL, true, false, false),
  ('@dave:example.org', NULL, 1699900200, 0, NULL, 0, NULL, NULL, NULL, NULL, 1, false, NULL, true, false, false),
  ('@1337:example.org', NULL, 1699900300, 0, NULL, 1, NULL, NULL, NULL, NULL, 0, false, NULL, true, false, false),
  ('@hookshot:example.org', NULL, 1699900400, 0, NULL, 0, 'hookshot', NULL, NULL, 'bot', 0, false, NULL, true, false, false),
  ('@telegram_777:example.org', NULL, 1699900500, 0, NULL, 0, 'telegram', NULL, NULL, NULL, 0, false, NULL, true, false, false),
  ('@averyveryverylongusername.with.dots:example.org', NULL, 1699900600, 0, NULL, 0, NULL, NULL, NULL, NULL, 0, false, NULL, true, false, false);

-- profiles.user_id is the localpart, full_user_id the whole id (delta 76-78).
-- Deactivation clears the profile; a guest never set one.
INSERT INTO profiles (user_id, displayname, avatar_url, full_user_id, fields) VALUES
  ('alice', 'Alice 🌸', 'mxc://example.org/AliceAvatar01', '@alice:example.org', NULL),
  ('bob', 'Bob', NULL, '@bob:example.org', NULL),
  ('dave', NULL, NULL, '@dave:example.org', NULL),
  ('1337', NULL, NULL, '@1337:example.org', NULL),
  ('hookshot', 'GitHub 🤖', NULL, '@hookshot:example.org', NULL),
  ('telegram_777', 'Иван Петров (Telegram)', NULL, '@telegram_777:example.org', NULL),
  ('averyveryverylongusername.with.dots', 'Long Name', NULL, '@averyveryverylongusername.with.dots:example.org', NULL);

-- ---- General: public, named, with an alias, a topic and an avatar

SELECT pg_temp.room('!GeneralRoomAbcdef:example.org', '@alice:example.org', 'gen', 'public', '{}', 'Alice 🌸', true);
SELECT pg_temp.ev('gen_pl', '!GeneralRoomAbcdef:example.org', 'm.room.power_levels', '@alice:example.org',
  '{"users": {"@alice:example.org": 100, "@bob:example.org": 50}, "users_default": 0, "events_default": 0, "state_default": 50, "ban": 50, "kick": 50, "redact": 50}', '');
SELECT pg_temp.ev('gen_name', '!GeneralRoomAbcdef:example.org', 'm.room.name', '@alice:example.org', '{"name": "General 💬"}', '');
SELECT pg_temp.ev('gen_alias', '!GeneralRoomAbcdef:example.org', 'm.room.canonical_alias', '@alice:example.org', '{"alias": "#general:example.org"}', '');
SELECT pg_temp.ev('gen_topic', '!GeneralRoomAbcdef:example.org', 'm.room.topic', '@alice:example.org', '{"topic": "Everything and nothing"}', '');
SELECT pg_temp.ev('gen_avatar', '!GeneralRoomAbcdef:example.org', 'm.room.avatar', '@alice:example.org', '{"url": "mxc://example.org/GeneralAvatar"}', '');
SELECT pg_temp.member('gen_join_bob', '!GeneralRoomAbcdef:example.org', '@bob:example.org', 'join', 'Bob');
SELECT pg_temp.member('gen_join_carol', '!GeneralRoomAbcdef:example.org', '@carol:matrix.org', 'join', 'Carol');
SELECT pg_temp.member('gen_join_erin', '!GeneralRoomAbcdef:example.org', '@erin:chat.other.net:8448', 'join', 'Erin ✨');
SELECT pg_temp.member('gen_join_dave', '!GeneralRoomAbcdef:example.org', '@dave:example.org', 'join', 'Dave');
SELECT pg_temp.member('gen_join_hookshot', '!GeneralRoomAbcdef:example.org', '@hookshot:example.org', 'join', 'GitHub 🤖');
SELECT pg_temp.member('gen_join_telegram', '!GeneralRoomAbcdef:example.org', '@telegram_777:example.org', 'join', 'Иван Петров (Telegram)');
SELECT pg_temp.member('gen_join_long', '!GeneralRoomAbcdef:example.org', '@averyveryverylongusername.with.dots:example.org', 'join', 'Long Name');
SELECT pg_temp.ev('gen_hello', '!GeneralRoomAbcdef:example.org', 'm.room.message', '@alice:example.org',
  '{"msgtype": "m.text", "body": "Hello everyone 👋", "format": "org.matrix.custom.html", "formatted_body": "<b>Hello</b> everyone 👋"}');
SELECT pg_temp.text('gen_welcome', '!GeneralRoomAbcdef:example.org', '@bob:example.org', 'Welcome! 🎉');
SELECT pg_temp.ev('gen_react_alice', '!GeneralRoomAbcdef:example.org', 'm.reaction', '@alice:example.org',
  '{"m.relates_to": {"rel_type": "m.annotation", "event_id": "<<gen_welcome>>", "key": "👍"}}');
SELECT pg_temp.ev('gen_react_carol', '!GeneralRoomAbcdef:example.org', 'm.reaction', '@carol:matrix.org',
  '{"m.relates_to": {"rel_type": "m.annotation", "event_id": "<<gen_welcome>>", "key": "👍"}}');
SELECT pg_temp.text('gen_bye', '!GeneralRoomAbcdef:example.org', '@erin:chat.other.net:8448', 'bye all, moving servers');
SELECT pg_temp.member('gen_leave_erin', '!GeneralRoomAbcdef:example.org', '@erin:chat.other.net:8448', 'leave');
SELECT pg_temp.ev('gen_notice', '!GeneralRoomAbcdef:example.org', 'm.room.message', '@hookshot:example.org',
  '{"msgtype": "m.notice", "body": "[immigrate/immigrate] PR #42 opened by alice", "format": "org.matrix.custom.html", "formatted_body": "<a href=\"https://github.com/immigrate/immigrate/pull/42\">PR #42</a> opened by alice"}');
SELECT pg_temp.ev('gen_emote', '!GeneralRoomAbcdef:example.org', 'm.room.message', '@telegram_777:example.org',
  '{"msgtype": "m.emote", "body": "машет рукой"}');
SELECT pg_temp.text('gen_dave', '!GeneralRoomAbcdef:example.org', '@dave:example.org', 'My last day, thanks all');
-- Deactivation makes the user leave every room (and clears the profile).
SELECT pg_temp.member('gen_leave_dave', '!GeneralRoomAbcdef:example.org', '@dave:example.org', 'leave');
SELECT pg_temp.ev('gen_cat', '!GeneralRoomAbcdef:example.org', 'm.room.message', '@alice:example.org',
  '{"msgtype": "m.image", "body": "cat.png", "url": "mxc://example.org/CatPic123", "info": {"mimetype": "image/png", "size": 12345, "w": 640, "h": 480}}');
-- A federated server with its clock in the future: rejected (message.time.future).
SELECT pg_temp.text('gen_future', '!GeneralRoomAbcdef:example.org', '@carol:matrix.org', 'greetings from the future', 4102444800000);
SELECT pg_temp.text('gen_long_id', '!GeneralRoomAbcdef:example.org', '@averyveryverylongusername.with.dots:example.org', 'hi from a long user id');
SELECT pg_temp.text('gen_oops', '!GeneralRoomAbcdef:example.org', '@bob:example.org', 'wrong room, sorry');
SELECT pg_temp.ev('gen_oops_redaction', '!GeneralRoomAbcdef:example.org', 'm.room.redaction', '@bob:example.org',
  '{"redacts": "<<gen_oops>>", "reason": "wrong room"}');
-- A NUL in a body: valid JSON (escaped as \u0000) that Synapse keeps in
-- event_json, but jsonb cannot hold it.
SELECT pg_temp.text('gen_nul', '!GeneralRoomAbcdef:example.org', '@telegram_777:example.org', 'bridged NULPLACEHOLDER text');
UPDATE event_json SET json = replace(json, 'NULPLACEHOLDER', '\u0000') WHERE event_id = pg_temp.eid('gen_nul');
-- A bridge that sends an empty body: rejected (message.text.empty).
SELECT pg_temp.text('gen_empty', '!GeneralRoomAbcdef:example.org', '@telegram_777:example.org', '');
SELECT pg_temp.text('gen_thread_root', '!GeneralRoomAbcdef:example.org', '@bob:example.org', 'Release plan?');
SELECT pg_temp.ev('gen_thread_reply', '!GeneralRoomAbcdef:example.org', 'm.room.message', '@alice:example.org',
  '{"msgtype": "m.text", "body": "Friday 🚀", "m.relates_to": {"rel_type": "m.thread", "event_id": "<<gen_thread_root>>", "is_falling_back": true, "m.in_reply_to": {"event_id": "<<gen_thread_root>>"}}}');

-- ---- Dev team: invite-only, a name over 30 bytes, power levels as strings
-- (tolerated before room version 10), its creator gone

SELECT pg_temp.room('!DevTeamRoomXyz:example.org', '@alice:example.org', 'dev', 'invite', '{}', 'Alice 🌸');
SELECT pg_temp.ev('dev_pl', '!DevTeamRoomXyz:example.org', 'm.room.power_levels', '@alice:example.org',
  '{"users": {"@alice:example.org": 100, "@bob:example.org": "100", "@hookshot:example.org": 50}, "users_default": 0}', '');
SELECT pg_temp.ev('dev_name', '!DevTeamRoomXyz:example.org', 'm.room.name', '@alice:example.org', '{"name": "Dev team — backend, infra & everything else"}', '');
SELECT pg_temp.member('dev_invite_bob', '!DevTeamRoomXyz:example.org', '@bob:example.org', 'invite', 'Bob', '@alice:example.org');
SELECT pg_temp.member('dev_join_bob', '!DevTeamRoomXyz:example.org', '@bob:example.org', 'join', 'Bob');
SELECT pg_temp.member('dev_join_hookshot', '!DevTeamRoomXyz:example.org', '@hookshot:example.org', 'join', 'GitHub 🤖');
SELECT pg_temp.member('dev_join_carol', '!DevTeamRoomXyz:example.org', '@carol:matrix.org', 'join', 'Carol');
SELECT pg_temp.text('dev_standup', '!DevTeamRoomXyz:example.org', '@bob:example.org', 'standup in 5');
SELECT pg_temp.ev('dev_standup_edit1', '!DevTeamRoomXyz:example.org', 'm.room.message', '@bob:example.org',
  '{"msgtype": "m.text", "body": "* standup in 10", "m.new_content": {"msgtype": "m.text", "body": "standup in 10"}, "m.relates_to": {"rel_type": "m.replace", "event_id": "<<dev_standup>>"}}');
SELECT pg_temp.ev('dev_spec', '!DevTeamRoomXyz:example.org', 'm.room.message', '@alice:example.org',
  '{"msgtype": "m.file", "body": "Here is the spec", "filename": "spec.pdf", "url": "mxc://example.org/SpecPdf456", "info": {"mimetype": "application/pdf", "size": 52000}}');
SELECT pg_temp.ev('dev_omw', '!DevTeamRoomXyz:example.org', 'm.room.message', '@carol:matrix.org',
  '{"msgtype": "m.text", "body": "> <@bob:example.org> standup in 5\n\nomw", "format": "org.matrix.custom.html", "formatted_body": "<mx-reply><blockquote>standup in 5</blockquote></mx-reply>omw", "m.relates_to": {"m.in_reply_to": {"event_id": "<<dev_standup>>"}}}');
SELECT pg_temp.ev('dev_standup_edit2', '!DevTeamRoomXyz:example.org', 'm.room.message', '@bob:example.org',
  '{"msgtype": "m.text", "body": "* standup in 15 ⏰", "m.new_content": {"msgtype": "m.text", "body": "standup in 15 ⏰"}, "m.relates_to": {"rel_type": "m.replace", "event_id": "<<dev_standup>>"}}');
-- An edit by someone else is not an edit (the spec requires the same sender).
SELECT pg_temp.ev('dev_standup_hijack', '!DevTeamRoomXyz:example.org', 'm.room.message', '@carol:matrix.org',
  '{"msgtype": "m.text", "body": "* standup cancelled", "m.new_content": {"msgtype": "m.text", "body": "standup cancelled"}, "m.relates_to": {"rel_type": "m.replace", "event_id": "<<dev_standup>>"}}');
SELECT pg_temp.ev('dev_ci_log', '!DevTeamRoomXyz:example.org', 'm.room.message', '@hookshot:example.org',
  json_build_object('msgtype', 'm.notice', 'body', 'CI failed: ' || repeat('error: flaky test ✗ ', 700))::text);
SELECT pg_temp.ev('dev_demo', '!DevTeamRoomXyz:example.org', 'm.room.message', '@bob:example.org',
  '{"msgtype": "m.video", "body": "demo.mp4", "url": "mxc://example.org/DemoMp4", "info": {"mimetype": "video/mp4", "size": 3000000, "duration": 12500, "w": 1280, "h": 720, "thumbnail_url": "mxc://example.org/DemoThumb", "thumbnail_info": {"w": 320, "h": 180, "mimetype": "image/jpeg"}}}');
SELECT pg_temp.ev('dev_voice', '!DevTeamRoomXyz:example.org', 'm.room.message', '@carol:matrix.org',
  '{"msgtype": "m.audio", "body": "Voice message.ogg", "url": "mxc://matrix.org/VoiceOgg", "info": {"mimetype": "audio/ogg", "size": 4200, "duration": 3100}, "org.matrix.msc3245.voice": {}}');
SELECT pg_temp.member('dev_leave_alice', '!DevTeamRoomXyz:example.org', '@alice:example.org', 'leave');

-- ---- a room without a name or alias: named after its members; a guest in it

SELECT pg_temp.room('!UnnamedRoomQwerty:example.org', '@bob:example.org', 'unn', 'invite', '{}', 'Bob');
SELECT pg_temp.ev('unn_guests', '!UnnamedRoomQwerty:example.org', 'm.room.guest_access', '@bob:example.org', '{"guest_access": "can_join"}', '');
SELECT pg_temp.member('unn_join_alice', '!UnnamedRoomQwerty:example.org', '@alice:example.org', 'join', 'Alice 🌸');
SELECT pg_temp.member('unn_join_guest', '!UnnamedRoomQwerty:example.org', '@1337:example.org', 'join');
SELECT pg_temp.text('unn_guest_hi', '!UnnamedRoomQwerty:example.org', '@1337:example.org', 'hello, just a guest here');
SELECT pg_temp.text('unn_bob_hi', '!UnnamedRoomQwerty:example.org', '@bob:example.org', 'welcome 🙂');

-- ---- a public room with an alias and no name, not federated

SELECT pg_temp.room('!AliasOnlyRoom:example.org', '@bob:example.org', 'ali', 'public', '{"m.federate": false}', 'Bob');
SELECT pg_temp.ev('ali_alias', '!AliasOnlyRoom:example.org', 'm.room.canonical_alias', '@bob:example.org', '{"alias": "#random:example.org"}', '');
SELECT pg_temp.member('ali_join_telegram', '!AliasOnlyRoom:example.org', '@telegram_777:example.org', 'join', 'Иван Петров (Telegram)');
SELECT pg_temp.text('ali_privet', '!AliasOnlyRoom:example.org', '@telegram_777:example.org', 'привет из Telegram');

-- ---- DM alice - bob (both flag it in m.direct)

SELECT pg_temp.room('!DmAliceBobRoom:example.org', '@alice:example.org', 'dab', 'invite', '{}', 'Alice 🌸');
SELECT pg_temp.member('dab_invite_bob', '!DmAliceBobRoom:example.org', '@bob:example.org', 'invite', 'Bob', '@alice:example.org', '{"is_direct": true}');
SELECT pg_temp.member('dab_join_bob', '!DmAliceBobRoom:example.org', '@bob:example.org', 'join', 'Bob');
-- Element asks to verify keys with an m.room.message in the DM: not a message anyone wrote.
SELECT pg_temp.ev('dm_verify', '!DmAliceBobRoom:example.org', 'm.room.message', '@alice:example.org',
  '{"msgtype": "m.key.verification.request", "body": "Alice 🌸 is requesting to verify your key, but your client does not support in-chat key verification.", "from_device": "ALICEPHONE", "methods": ["m.sas.v1"], "to": "@bob:example.org"}');
SELECT pg_temp.text('dm_hey', '!DmAliceBobRoom:example.org', '@alice:example.org', 'hey bob 😀');
SELECT pg_temp.ev('dm_view', '!DmAliceBobRoom:example.org', 'm.room.message', '@bob:example.org',
  '{"msgtype": "m.image", "body": "look at this view", "filename": "view.jpg", "url": "mxc://example.org/ViewJpg789", "info": {"mimetype": "image/jpeg", "size": 204800, "w": 1024, "h": 768}}');
SELECT pg_temp.ev('dm_reply', '!DmAliceBobRoom:example.org', 'm.room.message', '@alice:example.org',
  '{"msgtype": "m.text", "body": "> <@bob:example.org> look at this view\n\nwow 😍", "format": "org.matrix.custom.html", "formatted_body": "<mx-reply><blockquote><a href=\"https://matrix.to/#/@bob:example.org\">@bob:example.org</a><br>look at this view</blockquote></mx-reply>wow 😍", "m.relates_to": {"m.in_reply_to": {"event_id": "<<dm_view>>"}}}');
SELECT pg_temp.text('dm_lunch', '!DmAliceBobRoom:example.org', '@bob:example.org', 'lunch at 12?');
SELECT pg_temp.ev('dm_lunch_react', '!DmAliceBobRoom:example.org', 'm.reaction', '@alice:example.org',
  '{"m.relates_to": {"rel_type": "m.annotation", "event_id": "<<dm_lunch>>", "key": "👍"}}');
SELECT pg_temp.ev('dm_lunch_laugh', '!DmAliceBobRoom:example.org', 'm.reaction', '@alice:example.org',
  '{"m.relates_to": {"rel_type": "m.annotation", "event_id": "<<dm_lunch>>", "key": "😂"}}');
SELECT pg_temp.ev('dm_lunch_unlaugh', '!DmAliceBobRoom:example.org', 'm.room.redaction', '@alice:example.org', '{"redacts": "<<dm_lunch_laugh>>"}');
SELECT pg_temp.ev('dm_lunch_edit', '!DmAliceBobRoom:example.org', 'm.room.message', '@bob:example.org',
  '{"msgtype": "m.text", "body": "* lunch at 1pm? 🍜", "m.new_content": {"msgtype": "m.text", "body": "lunch at 1pm? 🍜"}, "m.relates_to": {"rel_type": "m.replace", "event_id": "<<dm_lunch>>"}}');
SELECT pg_temp.text('dm_secret', '!DmAliceBobRoom:example.org', '@alice:example.org', 'the wifi password is hunter2');
SELECT pg_temp.ev('dm_secret_redaction', '!DmAliceBobRoom:example.org', 'm.room.redaction', '@alice:example.org', '{"redacts": "<<dm_secret>>"}');
-- After redaction_retention_period Synapse prunes the redacted event's JSON.
UPDATE event_json SET json = (json::jsonb || '{"content": {}}'::jsonb)::text WHERE event_id = pg_temp.eid('dm_secret');
UPDATE redactions SET have_censored = true WHERE redacts = pg_temp.eid('dm_secret');
-- An image without its url (a client that put it elsewhere): rejected (message.image.missing).
SELECT pg_temp.ev('dm_broken_image', '!DmAliceBobRoom:example.org', 'm.room.message', '@bob:example.org',
  '{"msgtype": "m.image", "body": "broken.png", "info": {"mimetype": "image/png", "size": 99, "w": 10, "h": 10}}');
SELECT pg_temp.ev('dm_where', '!DmAliceBobRoom:example.org', 'm.room.message', '@alice:example.org',
  '{"msgtype": "m.location", "body": "Big Ben", "geo_uri": "geo:51.5008,-0.1247;u=35"}');
SELECT pg_temp.ev('dm_sticker', '!DmAliceBobRoom:example.org', 'm.sticker', '@bob:example.org',
  '{"body": "thumbs up", "url": "mxc://example.org/StickerThumbs", "info": {"mimetype": "image/png", "size": 2048, "w": 256, "h": 256}}');

-- ---- DM alice - carol (a user of another homeserver, who left since)

SELECT pg_temp.room('!DmAliceCarolRoom:example.org', '@alice:example.org', 'dac', 'invite', '{}', 'Alice 🌸');
SELECT pg_temp.member('dac_invite_carol', '!DmAliceCarolRoom:example.org', '@carol:matrix.org', 'invite', 'Carol', '@alice:example.org', '{"is_direct": true}');
SELECT pg_temp.member('dac_join_carol', '!DmAliceCarolRoom:example.org', '@carol:matrix.org', 'join', 'Carol');
SELECT pg_temp.text('dac_hi', '!DmAliceCarolRoom:example.org', '@carol:matrix.org', 'hi alice, from matrix.org');
SELECT pg_temp.text('dac_hi_back', '!DmAliceCarolRoom:example.org', '@alice:example.org', 'hi carol 👋');
SELECT pg_temp.member('dac_leave_carol', '!DmAliceCarolRoom:example.org', '@carol:matrix.org', 'leave');

-- ---- flagged as a DM by bob, but a third person joined: a group

SELECT pg_temp.room('!TrioRoom:example.org', '@bob:example.org', 'tri', 'invite', '{}', 'Bob');
SELECT pg_temp.member('tri_join_alice', '!TrioRoom:example.org', '@alice:example.org', 'join', 'Alice 🌸');
SELECT pg_temp.member('tri_join_telegram', '!TrioRoom:example.org', '@telegram_777:example.org', 'join', 'Иван Петров (Telegram)');
SELECT pg_temp.text('tri_hi', '!TrioRoom:example.org', '@bob:example.org', 'three of us now');

-- ---- a space: not a chat, dropped

SELECT pg_temp.room('!SpaceRoom:example.org', '@alice:example.org', 'spc', 'public', '{"type": "m.space"}', 'Alice 🌸');
SELECT pg_temp.ev('spc_name', '!SpaceRoom:example.org', 'm.room.name', '@alice:example.org', '{"name": "Company 🏢"}', '');
SELECT pg_temp.ev('spc_child', '!SpaceRoom:example.org', 'm.space.child', '@alice:example.org', '{"via": ["example.org"]}', '!GeneralRoomAbcdef:example.org');

-- ---- an end-to-end encrypted room: the group and its members import, its history cannot be read

SELECT pg_temp.room('!SecretRoom:example.org', '@alice:example.org', 'sec', 'invite', '{}', 'Alice 🌸');
SELECT pg_temp.ev('sec_name', '!SecretRoom:example.org', 'm.room.name', '@alice:example.org', '{"name": "Secret 🔒"}', '');
SELECT pg_temp.ev('sec_encryption', '!SecretRoom:example.org', 'm.room.encryption', '@alice:example.org', '{"algorithm": "m.megolm.v1.aes-sha2"}', '');
SELECT pg_temp.member('sec_join_bob', '!SecretRoom:example.org', '@bob:example.org', 'join', 'Bob');
SELECT pg_temp.ev('sec_msg1', '!SecretRoom:example.org', 'm.room.encrypted', '@alice:example.org',
  '{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnB...", "device_id": "ALICEPHONE", "sender_key": "c2VuZGVyIGtleQ", "session_id": "c2Vzc2lvbg"}');
SELECT pg_temp.ev('sec_msg2', '!SecretRoom:example.org', 'm.room.encrypted', '@bob:example.org',
  '{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgBEnC...", "device_id": "BOBLAPTOP", "sender_key": "Ym9iIGtleQ", "session_id": "c2Vzc2lvbg"}');

-- ---- two members, private, named, not in m.direct: a group

SELECT pg_temp.room('!PairRoom:example.org', '@alice:example.org', 'par', 'invite', '{}', 'Alice 🌸');
SELECT pg_temp.ev('par_name', '!PairRoom:example.org', 'm.room.name', '@alice:example.org', '{"name": "Pair 🍐"}', '');
SELECT pg_temp.member('par_join_bob', '!PairRoom:example.org', '@bob:example.org', 'join', 'Bob');
SELECT pg_temp.text('par_hi', '!PairRoom:example.org', '@alice:example.org', 'pairing at 3?');

-- ---- an invite from another server that alice never accepted: Synapse knows
-- the room only by a rooms row and the invite (an outlier), no state

INSERT INTO rooms (room_id, is_public, creator, room_version, has_auth_chain_index)
VALUES ('!InviteOnly:remote.net', false, NULL, '10', false);
SELECT pg_temp.ev('inv_alice', '!InviteOnly:remote.net', 'm.room.member', '@zed:remote.net',
  '{"membership": "invite", "displayname": "Alice 🌸"}', '@alice:example.org', NULL, true);

-- ---- account data: m.direct (peer → rooms), and another type the preset ignores

INSERT INTO account_data (user_id, account_data_type, stream_id, content, instance_name) VALUES
  ('@alice:example.org', 'm.direct', 2, '{"@bob:example.org": ["!DmAliceBobRoom:example.org"], "@carol:matrix.org": ["!DmAliceCarolRoom:example.org"]}', 'master'),
  ('@bob:example.org', 'm.direct', 3, '{"@alice:example.org": ["!DmAliceBobRoom:example.org", "!TrioRoom:example.org"]}', 'master'),
  ('@alice:example.org', 'im.vector.setting.breadcrumbs', 4, '{"recent_rooms": ["!GeneralRoomAbcdef:example.org"]}', 'master');

-- ---- room_stats_state, derived from the current state as Synapse's stats handler does

CREATE FUNCTION pg_temp.st(room text, etype text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT j.json::jsonb -> 'content'
  FROM current_state_events c JOIN event_json j ON j.event_id = c.event_id
  WHERE c.room_id = room AND c.type = etype AND c.state_key = ''
$$;

INSERT INTO room_stats_state (room_id, name, canonical_alias, join_rules, history_visibility, encryption, avatar,
                              guest_access, is_federatable, topic, room_type)
SELECT r.room_id,
       pg_temp.st(r.room_id, 'm.room.name') ->> 'name',
       pg_temp.st(r.room_id, 'm.room.canonical_alias') ->> 'alias',
       pg_temp.st(r.room_id, 'm.room.join_rules') ->> 'join_rule',
       pg_temp.st(r.room_id, 'm.room.history_visibility') ->> 'history_visibility',
       pg_temp.st(r.room_id, 'm.room.encryption') ->> 'algorithm',
       pg_temp.st(r.room_id, 'm.room.avatar') ->> 'url',
       pg_temp.st(r.room_id, 'm.room.guest_access') ->> 'guest_access',
       COALESCE((pg_temp.st(r.room_id, 'm.room.create') ->> 'm.federate')::boolean, true),
       pg_temp.st(r.room_id, 'm.room.topic') ->> 'topic',
       pg_temp.st(r.room_id, 'm.room.create') ->> 'type'
FROM rooms r
WHERE pg_temp.st(r.room_id, 'm.room.create') IS NOT NULL;
