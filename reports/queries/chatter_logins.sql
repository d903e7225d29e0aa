-- Every chatter login, to pseudonymize @mentions and bare logins inside published chat text.
select distinct user_login
from marts.dim_chatters
where user_login is not null
