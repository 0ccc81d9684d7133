<?php
$conf['manager'] = '@staff';
