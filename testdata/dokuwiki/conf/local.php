<?php
// The fixture's settings; serve.sh appends savedir.
$conf['title'] = 'permaudit DokuWiki';
$conf['useacl'] = 1;
$conf['superuser'] = '@admin';
$conf['userewrite'] = 0;
$conf['disableactions'] = 'register';
