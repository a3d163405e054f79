// usage: node check-ics.cjs FILE.ics -- parse with ical.js (Thunderbird's parser); print one JSON line per
// VEVENT; exit 1 on a parse error. Adapted from shared/recipes/check-ics.cjs.
const ICAL = require('ical.js');
const fs = require('fs');
const text = fs.readFileSync(process.argv[2], 'utf8');
let comp;
try { comp = new ICAL.Component(ICAL.parse(text)); } catch (e) { console.error('PARSE ERROR:', e.message); process.exit(1); }
for (const tz of comp.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
for (const ve of comp.getAllSubcomponents('vevent')) {
  const ev = new ICAL.Event(ve);
  console.log(JSON.stringify({
    uid: ev.uid, summary: ev.summary, start: ev.startDate.toJSDate().toISOString(),
    end: ev.endDate.toJSDate().toISOString(), status: ve.getFirstPropertyValue('status'),
    sequence: ev.sequence, attendees: ev.attendees.length, organizer: ve.getFirstPropertyValue('organizer'),
    alarms: ve.getAllSubcomponents('valarm').length,
  }));
}
