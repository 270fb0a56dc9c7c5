// The CronJob controller ("cronjob"): creates a CronJob's Jobs on its schedule, as upstream's
// (v2) controller does.
// - The schedule (cron_schedule.h) is read in spec.timeZone (time_zone.h), or the server's
//   local zone when unset; an unknown zone is a Warning event UnknownTimeZone "invalid
//   timeZone: \"x\": unknown time zone x" and nothing runs; a bad schedule is
//   UnparseableSchedule.
// - The most recent activation since status.lastScheduleTime (or the creation time, or now
//   minus startingDeadlineSeconds when later) is the one to run; more than 100 missed ones
//   give the Warning TooManyMissedTimes; one later than startingDeadlineSeconds is skipped
//   with MissSchedule.
// - The Job is "<cronjob>-<scheduled time in minutes since the epoch>" (the name is the lock
//   against running one time twice), with the jobTemplate's labels and annotations plus
//   batch.kubernetes.io/cronjob-scheduled-timestamp (RFC 3339 in the zone), owned by the
//   CronJob. concurrencyPolicy Allow / Forbid (JobAlreadyActive) / Replace (the running Jobs
//   are deleted first); suspend stops new runs.
// - Status: active (references to running Jobs), lastScheduleTime, lastSuccessfulTime.
//   Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted,
//   oldest first.
// - Events as upstream: SuccessfulCreate "Created job x", SawCompletedJob "Saw completed job:
//   x, condition: Complete", SuccessfulDelete "Deleted job x", MissingJob, UnexpectedJob,
//   FailedCreate.
// The key is queued again (WorkQueue::AddAfter) just after the next activation.
#pragma once

#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewCronJobController(const client::Client* client,
                                                         const Clock* clock = Clock::Real());

}  // namespace kite::controllers
