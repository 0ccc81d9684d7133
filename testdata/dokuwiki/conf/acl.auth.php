# acl.auth.php: the fixture's policy (README.md beside it)
*               @ALL          1
*               @user         8
team:*          @ALL          0
team:*          @user         8
staff:*         @ALL          0
staff:*         @staff        8
