-- DESIGN section 6 "Small samples": suppressed < 10 (value NULL), indicative < 30, else reliable;
-- counts carry no interval; intervals contain the value.
select *
from {{ ref('kpi_values') }}
where (n < 10 and (reliability <> 'suppressed' or value is not null or ci_low is not null))
   or (n >= 10 and n < 30 and reliability <> 'indicative')
   or (n >= 30 and reliability <> 'reliable')
   or (kpi_id in ('ticket_volume', 'visits', 'unique_visitors', 'active_learners')
       and (ci_low is not null or ci_high is not null))
   or (ci_low is not null and (value < ci_low - 1e-9 or value > ci_high + 1e-9))
