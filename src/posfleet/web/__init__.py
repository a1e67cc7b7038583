"""What every page of the console and the portal stands on: the sign-in gates, the acting `Actor` of a
request, refusals shown on the page, list paging and bar charts. Each app's own pages import these, so
the console and the portal sit above the apps and the apps' pages never reach up into them."""
